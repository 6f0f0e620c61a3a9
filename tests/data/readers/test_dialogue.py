"""DailyDialog reader: turns split at __eou__, n - 1 context -> next-turn pairs with the last k turns
joined by the separator, text or zip input, and the malformed lines (no __eou__, an empty turn)
failing with file and line or skipped and counted."""

import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqlab.data.readers.dialogue import (
    dialogue_pairs,
    join_context,
    parse_dialogue,
    read_dialogue_pairs,
    read_dialogues,
)
from seqlab.errors import DataError

DIALOGUES = (
    "Hi , how are you ? __eou__ Fine , thanks . __eou__ Good to hear . __eou__ Bye . __eou__\n"
    "Where is it ? __eou__ Over  there . __eou__\n"
    "\n"
    "Alone . __eou__\n"
)


def write_zip(path, text, member="train/dialogues_train.txt"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train/", "")
        archive.writestr("train/dialogues_act_train.txt", "1 2 3 4\n")
        archive.writestr(member, text)
    return path


def test_pairs_are_every_later_turn_with_the_last_k_turns_as_context(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text(DIALOGUES, encoding="utf-8")
    pairs = read_dialogue_pairs(path, context_turns=2, separator="<turn>").pairs
    assert [(p.source, p.target) for p in pairs] == [
        ("Hi , how are you ?", "Fine , thanks ."),
        ("Hi , how are you ? <turn> Fine , thanks .", "Good to hear ."),
        ("Fine , thanks . <turn> Good to hear .", "Bye ."),
        ("Where is it ?", "Over there ."),
    ]
    assert pairs[0].origin == f"{path}:1 (turn 2)" and pairs[3].origin == f"{path}:2 (turn 2)"
    one = read_dialogue_pairs(path, context_turns=1, separator="<turn>").pairs
    assert [p.source for p in one][:3] == ["Hi , how are you ?", "Fine , thanks .", "Good to hear ."]
    wide = read_dialogue_pairs(path, context_turns=9, separator="##").pairs
    assert wide[2].source == "Hi , how are you ? ## Fine , thanks . ## Good to hear ."


def test_the_official_zip_is_read_without_its_act_and_emotion_files(tmp_path):
    path = write_zip(tmp_path / "train.zip", DIALOGUES)
    report = read_dialogues(path)
    assert [len(d.turns) for d in report.dialogues] == [4, 2, 1]
    assert report.dialogues[1].origin == f"{path}:train/dialogues_train.txt:2"


def test_a_zip_without_one_dialogue_file_is_refused(tmp_path):
    path = tmp_path / "odd.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "nothing")
    with pytest.raises(DataError, match="expected one dialogues_\\*.txt file"):
        read_dialogues(path)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("Hello there . How are you ?", "no '__eou__' turn separator"),
        ("Hi . __eou__  __eou__ Bye . __eou__", "turn 2 is empty"),
    ],
)
def test_a_malformed_line_fails_naming_file_and_line_or_is_skipped_and_counted(tmp_path, line, problem):
    path = write_zip(tmp_path / "train.zip", f"A . __eou__ B . __eou__\n{line}\nC . __eou__ D . __eou__\n")
    with pytest.raises(DataError) as info:
        read_dialogues(path)
    assert f"{path}:train/dialogues_train.txt:2: {problem}" in str(info.value)
    assert "on_error: skip" in str(info.value)
    report = read_dialogues(path, on_error="skip")
    assert len(report.dialogues) == 2 and len(report.skipped) == 1 and problem in report.skipped[0]
    assert len(dialogue_pairs(report, 2, "<turn>").skipped) == 1


def test_excluded_dialogues_give_no_pairs(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text(DIALOGUES, encoding="utf-8")
    report = read_dialogues(path)
    kept = dialogue_pairs(report, 2, "<turn>", exclude={("Where is it ?", "Over there .")}).pairs
    assert [p.target for p in kept] == ["Fine , thanks .", "Good to hear .", "Bye ."]


def test_a_last_turn_without_its_end_marker_still_counts():
    assert parse_dialogue("A . __eou__ B .") == ("A .", "B .")
    with pytest.raises(ValueError, match="turn 1 is empty"):
        parse_dialogue(" __eou__ B . __eou__")


turn = st.text(
    st.characters(whitelist_categories=("L", "N", "P"), blacklist_characters="_"), min_size=1, max_size=8
)


@given(turns=st.lists(turn, min_size=1, max_size=6), k=st.integers(1, 4))
def test_join_context_keeps_the_last_k_turns_in_order(turns, k):
    joined = join_context(turns, k, "<turn>")
    assert joined.split(" <turn> ") == turns[-k:]
    line = " __eou__ ".join(turns) + " __eou__"
    assert parse_dialogue(line) == tuple(turns)
