"""``seqlab chat``: the terminal loop over scripted input, through the library and through the real
CLI; each answer equals ``translate`` / ``generate`` of the context the model should read (the last
turns joined with the run's separator), ``/reset`` forgets, ``/quit`` and the end of input stop."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest

import seqlab
from seqlab.cli import main
from seqlab.cli.chat import chat_loop
from seqlab.predictors.chat import Chatbot

_spec = importlib.util.spec_from_file_location(
    "chat_tiny_runs", Path(__file__).parent / "serve" / "tiny_runs.py"
)
tiny_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_runs)


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.getbasetemp() / "tiny_runs"  # shared with tests/serve and test_cli_errors
    return {name: tiny_runs.train_tiny(name, base) for name in ("lm", "seq2seq")}


SCRIPT = "a b c\n\nd e\n/reset\nd e\n/quit\nf g\n"


def expected_seq2seq(predictor, **decoding) -> list[str]:
    """What SCRIPT should give: each answer the translation of the context joined by hand."""
    first = predictor.translate("a b c", **decoding)[0].text
    second = predictor.translate(f"{first} <turn> d e", **decoding)[0].text
    third = predictor.translate("d e", **decoding)[0].text
    return [first, second, "(context cleared)", third]


def test_the_loop_answers_each_line_with_the_joined_context_until_quit(runs):
    predictor = seqlab.load(runs["seq2seq"])
    out, contexts = io.StringIO(), io.StringIO()
    answers = chat_loop(Chatbot(predictor, beam_size=2), io.StringIO(SCRIPT), out, show_context=contexts)
    assert answers == 3  # the blank line is skipped; nothing after /quit is read
    assert out.getvalue().splitlines() == expected_seq2seq(predictor, beam_size=2)
    first = predictor.translate("a b c", beam_size=2)[0].text
    assert contexts.getvalue().splitlines() == [
        "[context] a b c",
        f"[context] {first} <turn> d e",
        "[context] d e",
    ]


def test_the_loop_ends_at_end_of_input_and_writes_the_prompt(runs):
    predictor = seqlab.load(runs["seq2seq"])
    out = io.StringIO()
    assert chat_loop(Chatbot(predictor), io.StringIO("a b\nc d"), out, prompt="> ") == 2
    assert out.getvalue().count("> ") == 3  # before each of the two lines and before the end of input
    assert out.getvalue().endswith("> \n")  # the end of input ends the prompt's line


def test_the_cli_chats_with_a_seq2seq_run_as_translate_would_answer(runs, monkeypatch, capsys):
    run = str(runs["seq2seq"])
    expected = []
    for text in ("a b c", "{first} <turn> d e", "d e"):
        assert (
            main(["translate", run, text.format(first=expected[0] if expected else ""), "--beam-size", "1"])
            == 0
        )
        expected.append(capsys.readouterr().out.strip())
    monkeypatch.setattr("sys.stdin", io.StringIO(SCRIPT))
    assert main(["chat", run, "--beam-size", "1", "--show-context"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [expected[0], expected[1], "(context cleared)", expected[2]]
    assert f"[context] {expected[0]} <turn> d e" in captured.err


def test_the_cli_chats_with_a_language_model_and_refuses_seq2seq_only_controls(runs, monkeypatch, capsys):
    run = runs["lm"]
    predictor = seqlab.load(run)
    first = predictor.generate("the cat <turn>", 8, greedy=True, stop_at_eos=True, include_prompt=False)[0]
    first = first.split("<turn>")[0].strip()
    monkeypatch.setattr("sys.stdin", io.StringIO("the cat\n"))
    assert main(["chat", str(run), "--beam-size", "1", "--max-length", "8"]) == 0
    assert capsys.readouterr().out.splitlines() == [first]
    monkeypatch.setattr("sys.stdin", io.StringIO("the cat\n"))
    assert main(["chat", str(run), "--alpha", "0.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert "alpha: not for a language model" in err and len(err.splitlines()) == 1
