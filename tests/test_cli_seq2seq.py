"""End to end through the real CLI, in a temp dir: train the tiny reversal recipe, evaluate it (it
must have learned to reverse), translate a text (with an attention heat map) and a file, average two
checkpoints and translate with the result; the copy-attention recipe (a word no vocabulary holds,
p_gen in the heat map); and the errors a user can cause."""

import re
from pathlib import Path

import pytest
from cli_runner import run_cli

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny_seq2seq.yaml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("s2s_cli") / "tiny"
    run_cli("train", str(TINY), "--run-dir", str(run_dir))
    return run_dir


def test_train_writes_a_self_describing_run(run):
    for name in (
        "config.yaml",
        "source_vocab.json",
        "target_vocab.json",
        "source_tokenizer",
        "model.safetensors",
    ):
        assert (run / name).exists(), name


def test_evaluate_prints_scores_with_signature_and_length_table_and_the_model_learned(run):
    out = run_cli("evaluate", str(run)).stdout
    assert "nrefs:1|case:mixed" in out and "chrF" in out and "ROUGE-L" in out
    assert "by source length" in out
    exact = float(re.search(r"exact match ([\d.]+)%", out).group(1))
    assert exact >= 90.0, out  # a tiny model learns to reverse short sequences
    data = REPO / "tests" / "fixtures" / "tiny_s2s_valid.tsv"
    assert "60 sources" in run_cli("evaluate", str(run), "--data", str(data), "--beam-size", "1").stdout
    perplexity = float(re.search(r"perplexity ([\d.]+)", out).group(1))
    assert 1.0 <= perplexity < 2.0, out  # it learned: far below the target vocabulary's size
    assert "distinct-1" not in out


def test_evaluate_with_dialogue_adds_bleu_1_2_distinct_and_the_top_10_share(run):
    out = run_cli("evaluate", str(run), "--dialogue", "--beam-size", "1").stdout
    bleu1, bleu2 = (float(x) for x in re.search(r"BLEU-1 +([\d.]+) +BLEU-2 +([\d.]+)", out).groups())
    assert bleu2 <= bleu1 <= 100.0 and "ngram:2" in out
    distinct1 = float(re.search(r"distinct-1 ([\d.]+)", out).group(1))
    share = float(re.search(r"top-10 outputs ([\d.]+)%", out).group(1))
    assert 0 < distinct1 <= 100 and 0 < share <= 100


def test_translate_a_text_with_attention_plot_and_a_file(run, tmp_path):
    plot = tmp_path / "attention.png"
    result = run_cli("translate", str(run), "a b c d", "--attention-plot", str(plot), "--beam-size", "3")
    assert result.stdout.strip() == "d c b a"
    assert plot.read_bytes().startswith(PNG_MAGIC)
    source = tmp_path / "in.txt"
    source.write_text("a b c\nh g f e\n", encoding="utf-8")
    output = tmp_path / "out.txt"
    run_cli("translate", str(run), "--input", str(source), "--output", str(output), "--beam-size", "1")
    assert output.read_text(encoding="utf-8").splitlines() == ["c b a", "e f g h"]
    n_best = run_cli("translate", str(run), "a b", "--n-best", "2", "--beam-size", "2").stdout.splitlines()
    assert len(n_best) == 2 and n_best[0].split()[-2:] == ["b", "a"]


def test_copy_attention_writes_an_unseen_word_and_plots_p_gen(tmp_path):
    run = tmp_path / "copy"
    run_cli("train", str(REPO / "configs" / "tiny_copy.yaml"), "--run-dir", str(run))
    plot = tmp_path / "copy.png"
    text = "alpha beta zorblat gamma"
    result = run_cli("translate", str(run), text, "--attention-plot", str(plot), "--beam-size", "3")
    assert result.stdout.strip() == text
    assert plot.read_bytes().startswith(PNG_MAGIC)
    src = tmp_path / "src.txt"
    src.write_text(text + "\n", encoding="utf-8")
    evaluated = run_cli("evaluate", str(run), "--data", str(src), "--reference", str(src)).stdout
    assert "perplexity" in evaluated and "exact match 100.00%" in evaluated


def test_average_then_translate(run, tmp_path):
    out = tmp_path / "averaged"
    assert "averaged 2" in run_cli("average", str(run), str(run / "last"), "-o", str(out)).stdout
    assert run_cli("translate", str(out), "a b c").stdout.strip() == "c b a"


def test_user_errors_exit_2_with_a_message(run, tmp_path):
    both = run_cli("translate", str(run), "a b", "--input", "x.txt", check=False)
    assert both.returncode == 2 and "one of them" in both.stderr
    src, tgt = tmp_path / "s.txt", tmp_path / "t.txt"
    src.write_text("a b\nc d\n", encoding="utf-8")
    tgt.write_text("b a\n", encoding="utf-8")
    mismatch = run_cli("evaluate", str(run), "--data", str(src), "--reference", str(tgt), check=False)
    assert mismatch.returncode == 2 and "has 2 lines" in mismatch.stderr and "has 1 lines" in mismatch.stderr


def test_int8_translate_and_evaluate_and_a_gru_refused_in_one_line(run, tmp_path):
    pairs = (REPO / "tests" / "fixtures" / "tiny_s2s_valid.tsv").read_text(encoding="utf-8").splitlines()
    source = tmp_path / "in.txt"
    source.write_text("".join(line.split("\t")[0] + "\n" for line in pairs), encoding="utf-8")
    outputs = {}
    for flag in ("--no-int8", "--int8"):
        out = tmp_path / f"out{flag}.txt"
        run_cli("translate", str(run), "--input", str(source), "--output", str(out), flag)
        outputs[flag] = out.read_text(encoding="utf-8").splitlines()
    same = sum(a == b for a, b in zip(outputs["--no-int8"], outputs["--int8"], strict=True))
    assert same >= 0.95 * len(pairs), same
    assert run_cli("translate", str(run), "a b c d", "--int8").stdout.strip() == "d c b a"
    evaluated = run_cli("evaluate", str(run), "--int8", "--beam-size", "1").stdout
    assert "beam 1, int8" in evaluated
    assert float(re.search(r"exact match ([\d.]+)%", evaluated).group(1)) >= 90.0
    gru = tmp_path / "gru"
    run_cli(
        "train", str(TINY), "--run-dir", str(gru), "--set", "model.cell=gru", "--set", "training.max_steps=3"
    )
    refused = run_cli("translate", str(gru), "a b", "--int8", check=False)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip() == (
        "seqlab translate: error: int8: int8 decoding quantizes LSTM models (the encoder is a GRU)"
    )
