"""User errors on the command line: one line naming the file or field and what to do, exit 2, no
traceback; and exceptions that are bugs still show their traceback (issue 14, item 7)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
import torch

from seqlab.cli import main
from seqlab.errors import CheckpointError, ConfigError, DataError, SeqlabError, TrainingError

_spec = importlib.util.spec_from_file_location(
    "errors_tiny_runs", Path(__file__).parent / "serve" / "tiny_runs.py"
)
tiny_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_runs)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.getbasetemp() / "tiny_runs"  # shared with tests/serve and test_export
    return {name: tiny_runs.train_tiny(name, base) for name in ("lm", "classifier", "tagger", "seq2seq")}


def one_line_error(capsys, argv: list[str]) -> str:
    """Run the CLI and return its error message, checking exit 2 and a single stderr line."""
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    ("family", "argv", "use"),
    [
        ("seq2seq", ["predict", "{run}", "hello"], "seqlab translate"),
        ("classifier", ["generate", "{run}"], "seqlab predict"),
        ("seq2seq", ["generate", "{run}"], "seqlab translate"),
        ("tagger", ["predict-next", "{run}", "a b"], "seqlab predict"),
        ("seq2seq", ["predict-next", "{run}", "a b"], "seqlab translate"),
        ("classifier", ["score", "{run}", str(FIXTURES / "tiny_valid.txt")], "seqlab predict"),
        ("seq2seq", ["score", "{run}", str(FIXTURES / "tiny_valid.txt")], "seqlab translate"),
        ("lm", ["predict", "{run}", "hello"], "seqlab generate"),
        ("classifier", ["chat", "{run}"], "seqlab predict"),
        ("tagger", ["chat", "{run}"], "seqlab predict"),
    ],
)
def test_a_command_for_another_family_names_the_runs_family_and_the_command_to_use(
    runs, capsys, family, argv, use
):
    run = runs[family]
    err = one_line_error(capsys, [a.replace("{run}", str(run)) for a in argv])
    assert str(run) in err and use in err
    assert {"lm": "language model", "seq2seq": "seq2seq", "classifier": "classifier", "tagger": "tagger"}[
        family
    ] in err


def test_export_never_overwrites_a_file_and_refuses_an_unwritable_place(runs, tmp_path, capsys):
    mine = tmp_path / "model.onnx"
    mine.write_text("my own file\n")
    err = one_line_error(capsys, ["export", str(runs["lm"]), "--format", "torchscript", "-o", str(mine)])
    assert str(mine) in err and "not a folder" in err
    assert mine.read_text() == "my own file\n"
    # a folder holding other files is not written into either, unless --overwrite says so
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "lm_step.pt").write_text("mine\n")
    err = one_line_error(capsys, ["export", str(runs["lm"]), "--format", "torchscript", "-o", str(folder)])
    assert str(folder) in err and "--overwrite" in err
    assert (folder / "lm_step.pt").read_text() == "mine\n"
    args = ["export", str(runs["lm"]), "--format", "torchscript", "-o", str(folder), "--overwrite"]
    assert main(args) == 0
    assert (folder / "lm_step.pt").read_bytes() != b"mine\n"
    # an empty folder is fine without --overwrite
    (tmp_path / "empty").mkdir()
    args = ["export", str(runs["lm"]), "--format", "torchscript", "-o", str(tmp_path / "empty")]
    assert main(args) == 0
    capsys.readouterr()
    # below a file: cannot be created
    err = one_line_error(capsys, ["export", str(runs["lm"]), "--format", "onnx", "-o", str(mine / "x")])
    assert str(mine) in err


def test_export_to_a_place_that_cannot_be_created_is_a_one_line_error(runs, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # root may write anywhere: then a place no one can create a folder in
    target = Path("/proc/seqlab-export") if os.access(locked, os.W_OK) else locked / "out"
    try:
        err = one_line_error(capsys, ["export", str(runs["lm"]), "--format", "onnx", "-o", str(target)])
        assert str(target) in err
    finally:
        locked.chmod(0o700)


def test_an_empty_sentencepiece_model_is_a_data_error_naming_the_file(tmp_path):
    from seqlab.text.tokenizers import SPM_FILE, SentencePieceTokenizer, load_tokenizer

    tok = SentencePieceTokenizer(vocab_size=20)
    tok.fit(["the cat sat on the mat", "a dog ran in the park"] * 5, tmp_path)
    (tmp_path / SPM_FILE).write_bytes(b"")
    with pytest.raises(DataError, match=str(tmp_path / SPM_FILE)):
        load_tokenizer(tmp_path)


def test_invalid_utf8_in_metrics_jsonl_on_resume_is_a_one_line_error(runs, tmp_path, capsys):
    run = tmp_path / "lm"
    shutil.copytree(runs["lm"], run, symlinks=True)
    lines = (run / "metrics.jsonl").read_bytes().splitlines(keepends=True)
    (run / "metrics.jsonl").write_bytes(b"".join([lines[0], b'{"split": "tr\xff\xfe"}\n', *lines[1:]]))
    recipe, overrides = tiny_runs.RECIPES["lm"]
    sets = [arg for o in [*overrides, "training.max_steps=40"] for arg in ("--set", o)]
    argv = ["train", str(tiny_runs.REPO / "configs" / recipe), "--run-dir", str(run), "--resume", *sets]
    err = one_line_error(capsys, argv)
    assert "metrics.jsonl:2" in err and "UTF-8" in err


def test_invalid_utf8_after_the_checkpoint_is_cut_with_the_records_it_replaces(tmp_path):
    from seqlab.training.metrics_log import MetricsLog

    (tmp_path / "metrics.jsonl").write_bytes(b'{"step": 1}\n{"step": 2, "x": "\xff"}\n')
    log = MetricsLog(tmp_path)
    assert log.lines == 2
    log.truncate(1)
    assert (tmp_path / "metrics.jsonl").read_bytes() == b'{"step": 1}\n'


def test_nan_weights_are_refused_on_load_naming_file_and_tensor(runs, tmp_path, capsys):
    from safetensors.torch import load_file, save_file

    run = tmp_path / "lm"
    shutil.copytree(runs["lm"], run, symlinks=True)
    weights = load_file(str(run / "model.safetensors"))
    name = sorted(weights)[0]
    weights[name] = weights[name].clone()
    weights[name].view(-1)[0] = float("nan")
    save_file(weights, str(run / "model.safetensors"))
    # the manifest sees the changed file first; a run repaired by hand (--no-verify) meets the NaN check
    err = one_line_error(capsys, ["generate", str(run), "--max-tokens", "3"])
    assert "model.safetensors" in err and "changed after it was saved" in err
    err = one_line_error(capsys, ["generate", str(run), "--max-tokens", "3", "--no-verify"])
    assert "model.safetensors" in err and name in err and "NaN" in err


@pytest.mark.parametrize("error", [ConfigError, DataError, CheckpointError, TrainingError])
def test_every_user_error_type_exits_2_with_one_line(monkeypatch, capsys, error):
    import seqlab.data.catalogue.lookup as catalogue

    def fail(*args, **kwargs):
        raise error("data/x.txt:3: what went wrong; what to do")

    monkeypatch.setattr(catalogue, "list_datasets", fail)
    assert issubclass(error, SeqlabError)
    assert main(["data", "list"]) == 2
    err = capsys.readouterr().err
    assert err == "seqlab data: error: data/x.txt:3: what went wrong; what to do\n"


def test_an_output_path_the_system_refuses_is_a_one_line_error(runs, tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "folder" / "out.jsonl"
    argv = ["predict", str(runs["classifier"]), "--input", str(FIXTURES / "tiny_valid.txt"), "--output"]
    err = one_line_error(capsys, [*argv, str(missing)])
    assert str(missing) in err and "No such file or directory" in err


def test_an_os_error_about_no_file_is_a_bug_with_its_traceback(monkeypatch):
    import seqlab.data.catalogue.lookup as catalogue

    def bug(*args, **kwargs):
        raise OSError("internal")

    monkeypatch.setattr(catalogue, "list_datasets", bug)
    with pytest.raises(OSError, match="internal"):
        main(["data", "list"])


def test_a_bug_still_shows_its_traceback(monkeypatch):
    import seqlab.data.catalogue.lookup as catalogue

    def bug(*args, **kwargs):
        raise KeyError("internal")

    monkeypatch.setattr(catalogue, "list_datasets", bug)
    with pytest.raises(KeyError):
        main(["data", "list"])


def test_finite_weights_load(runs):
    import seqlab

    predictor = seqlab.load(runs["lm"])
    assert all(torch.isfinite(p).all() for p in predictor.model.parameters())
