"""Decoding values at the edges on the command line (issue 14, item 5): ``generate`` and ``translate``
refuse a value outside its range with exit 2 and one line naming the flag and the range, before the
model is loaded; unigram blocking over more tokens than the vocabulary holds ends each output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from seqlab.cli import main
from seqlab.ranges import COVERAGE_PENALTY, REPETITION_PENALTY, TEMPERATURE, TOP_P

_spec = importlib.util.spec_from_file_location(
    "limits_tiny_runs", Path(__file__).parent / "serve" / "tiny_runs.py"
)
tiny_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_runs)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.getbasetemp() / "tiny_runs"  # shared with tests/serve and test_export
    return {name: tiny_runs.train_tiny(name, base) for name in ("lm", "seq2seq")}


@pytest.mark.parametrize(
    ("verb", "flag", "value", "valid"),
    [
        ("generate", "--temperature", "1e-320", TEMPERATURE),
        ("generate", "--temperature", "1e308", TEMPERATURE),
        ("generate", "--temperature", "0.001", TEMPERATURE),
        ("generate", "--repetition-penalty", "1e308", REPETITION_PENALTY),
        ("generate", "--top-p", "0", TOP_P),
        ("generate", "--temperature", "nan", TEMPERATURE),
        ("translate", "--temperature", "1e308", TEMPERATURE),
        ("translate", "--temperature", "1e-320", TEMPERATURE),
        ("translate", "--coverage-penalty", "1e308", COVERAGE_PENALTY),
        ("translate", "--repetition-penalty", "1e308", REPETITION_PENALTY),
    ],
)
def test_an_extreme_value_exits_2_with_one_line_naming_the_range(tmp_path, capsys, verb, flag, value, valid):
    # the run directory does not exist: the flag is refused before anything is loaded
    missing = str(tmp_path / "no_run")
    args = (
        [verb, missing, flag, value]
        if verb == "generate"
        else [verb, missing, "a b c", flag, value, "--sampling"]
    )
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert flag in err[0] and valid.text in err[0], err


@pytest.mark.parametrize("extra", [["--greedy"], [], ["--temperature", "0.01"], ["--temperature", "100"]])
def test_generate_with_every_token_banned_ends_the_output(runs, capsys, extra):
    args = ["generate", str(runs["lm"]), "--prompt", "the", "--max-tokens", "256", "--no-repeat-ngram", "1"]
    assert main([*args, "--seed", "1", *extra]) == 0
    words = capsys.readouterr().out.split()
    assert len(words) == len(set(words)) and len(words) < 256


@pytest.mark.parametrize("extra", [["--beam-size", "3"], ["--sampling", "--temperature", "100"]])
def test_translate_with_every_token_banned_ends_the_output(runs, capsys, extra):
    args = ["translate", str(runs["seq2seq"]), "a b c", "--no-repeat-ngram", "1", "--min-length", "100"]
    args += ["--max-length", "200", "--max-length-ratio", "100", "--no-replace-unk", "--seed", "0"]
    assert main([*args, *extra]) == 0
    tokens = capsys.readouterr().out.split()
    assert len(tokens) == len(set(tokens)) and len(tokens) < 100


def test_the_values_of_the_issue_on_real_runs_exit_2(runs, capsys):
    # before the fix: a NaN distribution and a torch.multinomial traceback
    for args in (
        ["generate", str(runs["lm"]), "--temperature", "1e-320"],
        ["generate", str(runs["lm"]), "--temperature", "1e308"],
        ["translate", str(runs["seq2seq"]), "a b c", "--sampling", "--temperature", "1e308"],
    ):
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and TEMPERATURE.text in err[0], err
