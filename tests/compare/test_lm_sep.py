"""compare/lm_sep.py: the token escapes round-trip, a language model over sentencepiece pieces
answers (the pieces' word-start mark is no escape), and a truncated source is read the same way in
its training lines and when it decodes."""

from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st
from tiny_g2p_spec import tiny_g2p_spec

from seqlab.compare.lm_sep import PAIRS_DIR, SEP, escape, unescape
from seqlab.compare.run import run_compare
from seqlab.compare.spec import contender_config, lm_pair_files
from seqlab.compare.spec_file import load_spec
from seqlab.compare.worker import load_translator, prepare_lm
from seqlab.training.pipeline import train

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@given(st.text())
def test_escape_gives_one_token_that_unescapes_exactly(token):
    written = escape(token)
    assert written and written.split() == [written]
    assert unescape(written) == (token or " ")


def test_sentencepiece_word_starts_are_kept():
    assert escape("\u2581hello") == "\u2581hello" and unescape("\u2581hello") == "\u2581hello"
    assert escape("a b%") == "a%20b%25" and unescape("a%20b%25") == "a b%"


def test_an_lm_sep_contender_on_sentencepiece_answers_with_target_pieces(tmp_path):
    pieces = {"kind": "sentencepiece", "sp_vocab_size": 60, "lowercase": True}
    spec = {
        "title": "tiny dialogue, sentencepiece",
        "seed": 1,
        "metric": "bleu2",
        "data": {
            "format": "dailydialog",
            "train": str(FIXTURES / "tiny_dialogues_train.txt"),
            "valid": str(FIXTURES / "tiny_dialogues_valid.txt"),
            "source_tokenizer": pieces,
            "target_tokenizer": pieces,
            "share_vocab": True,
            "max_tokens": 512,
        },
        "model": {"embedding_size": 16, "hidden_size": 32, "num_layers": 1},
        "training": {"optimizer": {"name": "adam", "lr": 0.01}, "validate_every": 50, "log_every": 25},
        "budget": {"max_target_tokens": 20000, "max_parameters": 200_000},
        "decoding": {"beam_size": 2, "max_length": 16},
        "evaluation": {"max_examples": 20, "attention_examples": 0, "show_examples": 20},
        "contenders": [
            {"name": "lm_sep", "kind": "lm_sep"},
            {"name": "s2s_none", "kind": "seq2seq", "attention": "none"},
        ],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    results = run_compare(path, tmp_path / "report", isolate=False, echo=lambda line: None)
    lm_sep = next(c for c in results["contenders"] if c["name"] == "lm_sep")
    outputs = [example["output"] for example in lm_sep["examples"]]
    # before the escapes were URL escapes, every output was empty: "▁word" read back as " word"
    assert sum(bool(text.strip()) for text in outputs) >= len(outputs) // 2, outputs
    assert lm_sep["metrics"]["bleu2"] > 0.0


def test_lm_sep_decodes_the_truncated_source_its_lines_were_written_with(tmp_path):
    spec = tiny_g2p_spec(
        "tiny G2P, truncated sources",
        {"source_truncate": 4},
        {"embedding_size": 8, "hidden_size": 16, "num_layers": 1},
        budget={"max_steps": 5},
        contenders=[{"name": "lm", "kind": "lm_sep"}],
    )
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    spec = load_spec(tmp_path / "spec.yaml")
    run_dir = tmp_path / "lm"
    prepare_lm(spec, run_dir)
    train_lines = lm_pair_files(run_dir)[0].read_text(encoding="utf-8").split("\n")
    assert max(line.split().index(SEP) for line in train_lines if line) == 4
    train(contender_config(spec, spec.contenders[0], run_dir), run_dir)
    translator = load_translator(run_dir, spec.contenders[0], "cpu")
    assert (run_dir / PAIRS_DIR).is_dir() and translator.pipeline.source_truncate == 4
    long, first = translator.translate(["abbreviate", "abbr"], beam_size=2, max_length=6)
    assert long.source_tokens == first.source_tokens == list("abbr")
    assert (long.text, long.score) == (first.text, first.score)
