"""The comparison on dialogue, end to end on the tiny DailyDialog-format fixture: the language model
reads the same context -> reply pairs as the Seq2Seq contenders, and the report judges BLEU-2 with
its paired-bootstrap interval and shows the diversity figures."""

from pathlib import Path

import yaml

from seqlab.compare.run import run_compare
from seqlab.data.readers.dialogue import read_dialogue_pairs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPEC = Path(__file__).resolve().parents[2] / "configs" / "compare_dailydialog.yaml"


def tiny_dialogue_spec(tmp_path: Path) -> Path:
    spec = {
        "title": "tiny dialogue",
        "seed": 1,
        "metric": "bleu2",
        "extra_metrics": ["bleu1", "distinct2", "frequent_share"],
        "data": {
            "format": "dailydialog",
            "train": str(FIXTURES / "tiny_dialogues_train.txt"),
            "valid": str(FIXTURES / "tiny_dialogues_valid.txt"),
            "context_turns": 2,
            "turn_separator": "<turn>",
            "source_tokenizer": {"kind": "word", "lowercase": True},
            "target_tokenizer": {"kind": "word", "lowercase": True},
            "max_tokens": 256,
        },
        "model": {"embedding_size": 16, "hidden_size": 16, "num_layers": 1},
        "training": {"optimizer": {"name": "adam", "lr": 0.01}, "validate_every": 20, "log_every": 10},
        "budget": {"max_target_tokens": 6000, "max_parameters": 100_000},
        "decoding": {"beam_size": 2, "max_length": 12, "blocking_ngram": 2},
        "evaluation": {"max_examples": 30, "attention_examples": 0, "show_examples": 2},
        "contenders": [
            {"name": "lm_sep", "kind": "lm_sep"},
            {"name": "s2s_luong", "kind": "seq2seq", "attention": "luong"},
        ],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_a_dialogue_comparison_judges_bleu_2_with_its_interval(tmp_path):
    report = tmp_path / "report"
    results = run_compare(tiny_dialogue_spec(tmp_path), report, isolate=False, echo=lambda line: None)
    assert results["metric"]["name"] == "bleu2"
    # the language model's lines are the dialogue pairs, the context joined as the reader joins it
    lm_lines = (report / "contenders" / "lm_sep" / "pairs" / "train.txt").read_text(encoding="utf-8")
    pairs = read_dialogue_pairs(FIXTURES / "tiny_dialogues_train.txt", 2, "<turn>").pairs
    expected = {f"{p.source.lower()} <sep> {p.target.lower()}" for p in pairs}
    assert set(lm_lines.splitlines()) == expected
    assert any(" <turn> " in line for line in expected)
    text = (report / "report.md").read_text(encoding="utf-8")
    assert "BLEU-2" in text and "distinct-2" in text and "top-10 outputs" in text
    quality = next(line for line in text.splitlines() if line.startswith("Quality:"))
    assert "lm_sep" in quality and "s2s_luong" in quality and "95% paired-bootstrap interval [" in quality
    for contender in results["contenders"]:
        assert contender["per_example"]["metric"] == "bleu2"
        assert set(contender["metrics"]) == {"bleu2", "bleu1", "distinct2", "frequent_share"}


def test_the_dailydialog_spec_loads():
    from seqlab.compare.spec_file import load_spec

    spec = load_spec(SPEC)
    assert spec.metric == "bleu2" and spec.budget.max_target_tokens
    assert {c.kind for c in spec.contenders} == {"lm_sep", "seq2seq"}
