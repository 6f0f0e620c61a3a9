"""Diverse beam search and MMI reranking through the command line (in process): `translate` and
`evaluate` take --diverse-groups, --diversity-strength and --mmi-lm/--mmi-lambda/--mmi-gamma, and
refuse bad settings with exit status 2 and one line."""

import json
from pathlib import Path

import pytest

from seqlab.cli import main
from seqlab.config import load_config
from seqlab.training.pipeline import train

REPO = Path(__file__).resolve().parents[1]
VALID = REPO / "tests" / "fixtures" / "tiny_s2s_valid.tsv"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """A briefly trained Seq2Seq run and a tiny language model on its validation targets."""
    root = tmp_path_factory.mktemp("cli_mmi")
    overrides = [
        f"data.train={REPO / 'tests/fixtures/tiny_s2s_train.tsv'}",
        f"data.valid={VALID}",
        "training.max_steps=30",
        "training.validate_every=30",
        "training.metric=loss",
        "training.metric_mode=min",
    ]
    train(load_config(REPO / "configs" / "tiny_seq2seq.yaml", overrides), root / "s2s")
    targets = root / "targets.txt"
    lines = VALID.read_text(encoding="utf-8").splitlines()
    targets.write_text("".join(line.split("\t")[1] + "\n" for line in lines), encoding="utf-8")
    lm_overrides = [f"data.train={targets}", f"data.valid={targets}", "training.max_steps=20"]
    train(load_config(REPO / "configs" / "tiny_lm.yaml", lm_overrides), root / "lm")
    return root / "s2s", root / "lm"


def test_translate_with_diverse_groups_and_mmi(runs, tmp_path, capsys):
    s2s, lm = runs
    source = tmp_path / "src.txt"
    source.write_text("a b c d\ng f e\n", encoding="utf-8")
    args = ["translate", str(s2s), "--input", str(source), "--json", "--beam-size", "4", "--n-best", "4"]
    assert main([*args, "--diverse-groups", "2", "--diversity-strength", "5"]) == 0
    diverse = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(len(record["n_best"]) == 4 for record in diverse)
    assert main([*args, "--mmi-lm", str(lm), "--mmi-lambda", "0.3", "--mmi-gamma", "3"]) == 0
    reranked = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for record in reranked:
        scores = [score for _, score in record["n_best"]]
        assert scores == sorted(scores, reverse=True) and record["score"] == scores[0]
    assert main(["translate", str(s2s), "a b c", "--beam-size", "4", "--mmi-lm", str(lm)]) == 0
    assert capsys.readouterr().out.strip()


def test_evaluate_takes_the_decoding_flags(runs, capsys):
    s2s, lm = runs
    common = ["evaluate", str(s2s), "--data", str(VALID), "--beam-size", "4"]
    assert (
        main([*common, "--diverse-groups", "2", "--diversity-strength", "0.5", "--no-repeat-ngram", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert "beam 4, 2 diverse groups (strength 0.5), no repeated 2-grams" in out and "BLEU" in out
    assert main([*common, "--mmi-lm", str(lm)]) == 0
    assert f"MMI reranking with {lm}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--beam-size", "4", "--diverse-groups", "3"], "diverse_groups = 3: must divide beam_size = 4"),
        (["--beam-size", "4", "--diversity-strength", "-1"], "--diversity-strength = -1.0"),
        (["--beam-size", "1", "--mmi-lm", "LM"], "beam_size >= 2"),
        (["--mmi-lambda", "0.5"], "mmi_lambda: needs mmi_lm"),
        (["--beam-size", "3", "--mmi-lm", "LM", "--mmi-gamma", "0"], "mmi_gamma = 0"),
        (["--beam-size", "3", "--mmi-lm", "S2S"], "a seq2seq run; MMI reranking needs a language-model run"),
    ],
)  # fmt: skip
def test_bad_settings_exit_2_with_one_line(runs, capsys, flags, message):
    s2s, lm = runs
    flags = [str(lm) if f == "LM" else str(s2s) if f == "S2S" else f for f in flags]
    assert main(["translate", str(s2s), "a b", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_help_lists_the_flags(capsys):
    for verb in ("translate", "evaluate"):
        with pytest.raises(SystemExit):
            main([verb, "--help"])
        out = capsys.readouterr().out
        for flag in ("--diverse-groups", "--diversity-strength", "--mmi-lm", "--mmi-lambda", "--mmi-gamma"):
            assert flag in out, (verb, flag)


def test_generate_takes_diverse_groups(runs, capsys):
    _, lm = runs
    common = ["generate", str(lm), "--prompt", "a", "--max-tokens", "4", "--beam", "4", "--num-samples", "4"]
    assert main([*common, "--diverse-groups", "4", "--diversity-strength", "50"]) == 0
    samples = capsys.readouterr().out.split("--- sample ")[1:]
    # "a" + the first new token (one letter, or a line end): each group starts with its own token
    starts = [sample.split("\n", 1)[1][:3] for sample in samples]
    assert len(samples) == 4 and len(set(starts)) == 4, samples
    assert main([*common, "--diverse-groups", "3"]) == 2
    assert "diverse_groups = 3: must divide beam_size = 4" in capsys.readouterr().err
