"""End to end through the real CLI: a tiny dialogue model on a DailyDialog-format fixture and a tiny
subject-line model on an AESLC-format fixture; evaluate (the run's validation files, and the
catalogue splits ``dailydialog:valid_unseen`` and ``aeslc:valid_ann`` from a data root made of the
fixtures), translate, and the bad-input errors."""

import re
import tarfile
from pathlib import Path

import pytest
from cli_runner import run_cli

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="module")
def dialogue_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("dialogue") / "run"
    run_cli("train", "configs/tiny_dailydialog.yaml", "--run-dir", str(run_dir))
    return run_dir


@pytest.fixture(scope="module")
def email_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("email") / "run"
    run_cli("train", "configs/tiny_aeslc.yaml", "--run-dir", str(run_dir))
    return run_dir


@pytest.fixture(scope="module")
def data_root(tmp_path_factory, dailydialog_zips) -> Path:
    """The fixtures in the catalogue's layout: DailyDialog zips and AESLC tar.gz archives."""
    root = tmp_path_factory.mktemp("data_root")
    texts = [(FIXTURES / f"tiny_dialogues_{s}.txt").read_text(encoding="utf-8") for s in ("train", "valid")]
    dailydialog_zips(root, *texts)
    (root / "seq2seq" / "aeslc").mkdir(parents=True)
    for split in ("train", "dev"):
        with tarfile.open(root / "seq2seq" / "aeslc" / f"aeslc_{split}.tar.gz", "w:gz") as archive:
            archive.add(FIXTURES / "tiny_aeslc" / split, f"enron_subject_line/{split}")
    return root


def score(output: str, name: str) -> float:
    return float(re.search(rf"{name} ([\d.]+)", output).group(1))


def test_dialogue_model_answers_from_two_turns_of_context(dialogue_run):
    vocab = (dialogue_run / "source_vocab.json").read_text(encoding="utf-8")
    assert '"<turn>"' in vocab  # the separator is one token
    out = run_cli("evaluate", str(dialogue_run)).stdout
    assert score(out, "exact match") >= 80.0, out
    # "OK ." is followed by different turns: the turn before it decides
    after_thanks = run_cli("translate", str(dialogue_run), "Fine , thanks . <turn> OK .", "--beam-size", "1")
    after_going = run_cli(
        "translate", str(dialogue_run), "Yes , let us go now . <turn> OK .", "--beam-size", "1"
    )
    assert after_thanks.stdout.strip() == "shall we go for a walk ?"
    assert after_going.stdout.strip() == "see you later ."


def test_dialogue_catalogue_splits_with_and_without_the_train_duplicates(dialogue_run, data_root):
    valid = run_cli("evaluate", str(dialogue_run), "--data", "dailydialog:valid", data_root=data_root).stdout
    unseen = run_cli(
        "evaluate", str(dialogue_run), "--data", "dailydialog:valid_unseen", data_root=data_root
    ).stdout
    train = set((FIXTURES / "tiny_dialogues_train.txt").read_text(encoding="utf-8").splitlines())
    lines = (FIXTURES / "tiny_dialogues_valid.txt").read_text(encoding="utf-8").splitlines()
    pairs = sum(line.count("__eou__") - 1 for line in lines)
    unseen_pairs = sum(line.count("__eou__") - 1 for line in lines if line not in train)
    assert 0 < unseen_pairs < pairs
    assert "dailydialog (valid): " in valid and f"({pairs} pairs)" in valid
    assert "dailydialog (valid_unseen): " in unseen and f"({unseen_pairs} pairs)" in unseen


def test_email_model_learns_subjects_and_scores_against_the_annotations(email_run, data_root):
    out = run_cli("evaluate", str(email_run)).stdout
    assert "8 sources (8 pairs)" in out and score(out, "ROUGE-L") >= 50.0, out
    annotated = run_cli("evaluate", str(email_run), "--data", "aeslc:valid_ann", data_root=data_root).stdout
    assert "aeslc (valid_ann): 8 sources (24 pairs)" in annotated
    assert score(annotated, "ROUGE-L") >= 30.0, annotated
    result = run_cli(
        "translate", str(email_run), "Hello Tom, the credit report is late. Sue", "--beam-size", "1"
    )
    assert result.stdout.strip() and len(result.stdout.strip().split()) <= 6  # decoding.max_length


def test_bad_dialogue_and_email_files_exit_2_naming_file_and_line(tmp_path):
    bad = tmp_path / "dialogues.txt"
    bad.write_text("A . __eou__ B . __eou__\nno end of turn marker here\n", encoding="utf-8")
    result = run_cli(
        "train",
        "configs/tiny_dailydialog.yaml",
        "--run-dir",
        str(tmp_path / "r1"),
        "--set",
        f"data.train={bad}",
        check=False,
    )
    assert result.returncode == 2 and f"{bad}:2: no '__eou__' turn separator" in result.stderr
    skipped = run_cli(
        "train",
        "configs/tiny_dailydialog.yaml",
        "--run-dir",
        str(tmp_path / "r0"),
        "--set",
        f"data.train={bad}",
        "--set",
        "data.on_error=skip",
        "--set",
        "training.max_steps=1",
    )
    assert "skipped 1 malformed line(s)" in skipped.stderr + skipped.stdout
    emails = tmp_path / "emails"
    emails.mkdir()
    (emails / "x.subject").write_text("A body without its marker\nSubject\n", encoding="utf-8")
    result = run_cli(
        "train",
        "configs/tiny_aeslc.yaml",
        "--run-dir",
        str(tmp_path / "r2"),
        "--set",
        f"data.train={emails}",
        check=False,
    )
    assert result.returncode == 2 and f"{emails / 'x.subject'}: no '@subject' line" in result.stderr
    config = run_cli(
        "train",
        "configs/tiny_dailydialog.yaml",
        "--run-dir",
        str(tmp_path / "r3"),
        "--set",
        "data.context_turns=0",
        check=False,
    )
    assert config.returncode == 2 and "context_turns = 0" in config.stderr
