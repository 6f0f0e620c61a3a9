"""End to end through the real CLI: train a tiny LM in a temp dir, then evaluate, generate, predict, score."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from cli_runner import run_cli
from safetensors.torch import load_file

from seqlab.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny_lm.yaml"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("cli") / "tiny"
    run_cli("train", str(TINY), "--run-dir", str(run_dir), "--set", "training.max_steps=60")
    return run_dir


def test_train_writes_a_self_describing_run_directory(trained_run):
    for name in (
        "config.yaml",
        "vocab.json",
        "tokenizer",
        "model.safetensors",
        "metrics.jsonl",
        "last",
        "best",
    ):
        assert (trained_run / name).exists(), name
    records = [json.loads(line) for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
    valid = [r for r in records if r["split"] == "valid"]
    assert valid and all(math.isfinite(r["ppl"]) for r in valid)
    assert max(r["step"] for r in records) == 60
    # the stored config records the override
    assert "max_steps: 60" in (trained_run / "config.yaml").read_text()
    # weights are safetensors, and nothing in the run directory is a pickle
    for path in trained_run.rglob("*"):
        assert path.suffix not in (".pt", ".pth", ".pkl", ".bin"), path


def test_evaluate_prints_perplexity(trained_run):
    out = run_cli("evaluate", str(trained_run)).stdout
    assert "perplexity" in out
    ppl = float(out.split("perplexity")[1].split()[0])
    assert 1.0 < ppl < 200.0  # vocabulary is ~60 words: a trained model is far below uniform
    out_file = run_cli(
        "evaluate", str(trained_run), "--data", str(REPO / "tests/fixtures/tiny_valid.txt")
    ).stdout
    assert "tiny_valid.txt" in out_file


def test_generate_is_seedable_and_respects_max_tokens(trained_run, capsys):
    args = ["generate", str(trained_run), "--prompt", "the cat", "--max-tokens", "12", "--seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("the cat")
    assert len(first.split()) <= 2 + 12 + 1
    assert main(["generate", str(trained_run), "--greedy", "--max-tokens", "5"]) == 0


def test_generate_rejects_bad_processor_argument(trained_run, capsys):
    assert main(["generate", str(trained_run), "--top-p", "1.5"]) == 2
    assert "1.5" in capsys.readouterr().err


def test_predict_next_lists_probabilities(trained_run, capsys):
    assert main(["predict-next", str(trained_run), "the cat sat on the", "--top-k", "4"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.strip().splitlines()]
    assert len(rows) == 4
    probs = [float(r[0]) for r in rows]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001


def test_score_gives_a_line_each(trained_run, tmp_path, capsys):
    text = tmp_path / "lines.txt"
    text.write_text("the cat sat on the mat .\nmat the on sat cat the .\n", encoding="utf-8")
    assert main(["score", str(trained_run), str(text)]) == 0
    out = capsys.readouterr().out.splitlines()
    scored = [line.split("\t") for line in out[1:3]]
    assert [s[3] for s in scored] == ["the cat sat on the mat .", "mat the on sat cat the ."]
    # a sentence in training order is more likely than its reversal
    assert float(scored[0][0]) > float(scored[1][0])


def test_config_errors_exit_2_before_any_work(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {train: x.txt}\nmodel: {cel: lstm}\n", encoding="utf-8")
    result = run_cli("train", str(bad), "--run-dir", str(tmp_path / "r"), check=False)
    assert result.returncode == 2
    assert "did you mean 'cell'" in result.stderr
    assert not (tmp_path / "r").exists()


def test_refuses_to_overwrite_a_run_without_resume(trained_run, capsys):
    assert main(["train", str(TINY), "--run-dir", str(trained_run)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_invalid_utf8_input_is_reported_with_position(trained_run, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine line\nbad \xff byte\n")
    assert main(["score", str(trained_run), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.txt" in err and ":2" in err


def test_python_api_matches_cli(trained_run):
    import seqlab

    lm = seqlab.load(trained_run)
    top = lm.predict_next("the cat sat on the", top_k=3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    samples = lm.generate("a", max_tokens=5, seed=1, num_samples=2)
    assert len(samples) == 2


def test_torchrun_two_gloo_processes_match_one_process(tmp_path):
    """`torchrun --nproc_per_node 2` through the CLI: the same global batch, split over two ranks,
    gives the same weights as one process (dropout off, so no randomness differs between ranks)."""
    from safetensors.torch import load_file

    torchrun = Path(sys.executable).with_name("torchrun")
    common = ["--set", "training.max_steps=20", "--set", "model.dropout=0.0"]
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    run_cli("train", str(TINY), "--run-dir", str(single), *common)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [str(torchrun), "--nproc_per_node", "2", "-m", "seqlab", "train", str(TINY), "--run-dir", str(ddp)]
    result = subprocess.run(cmd + common, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("done:") == 1  # only rank 0 reports
    one = load_file(str(single / "last" / "model.safetensors"))
    two = load_file(str(ddp / "last" / "model.safetensors"))
    assert one.keys() == two.keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], atol=2e-5, rtol=1e-4)


def test_docs_cli_page_is_in_step_with_the_parser():
    from seqlab.cli import help_markdown

    assert (REPO / "docs" / "cli.md").read_text(encoding="utf-8") == help_markdown()


def test_a_pickled_model_file_is_refused_and_never_run(trained_run, tmp_path, capsys):
    import pickle
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run, symlinks=True)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (marker.touch, ())

    (run / "model.safetensors").write_bytes(pickle.dumps(Payload()))
    assert main(["generate", str(run), "--max-tokens", "3"]) == 2
    assert "model.safetensors" in capsys.readouterr().err  # the manifest notices first
    assert main(["generate", str(run), "--max-tokens", "3", "--no-verify"]) == 2
    err = capsys.readouterr().err
    assert "model.safetensors" in err and "not a safetensors file" in err
    assert not marker.exists()


def test_data_list_and_check(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert f"data folder: {tmp_path}" in out
    assert "ptb" in out and "cmudict_words" in out
    assert main(["data", "check", "ptb"]) == 2  # the empty data folder has no PTB
    err = capsys.readouterr().err
    assert "lm/ptb/ptb.train.txt: MISSING" in err
    assert main(["data", "check", "tinyshakespear"]) == 2
    assert "did you mean 'tinyshakespeare'" in capsys.readouterr().err


def test_sentencepiece_run_stores_its_model_and_decodes(tmp_path, capsys):
    run = tmp_path / "sp"
    overrides = [
        "training.max_steps=20",
        "data.tokenizer.kind=sentencepiece",
        "data.tokenizer.sp_model_type=bpe",
        "data.tokenizer.sp_vocab_size=80",
    ]
    args = ["train", str(TINY), "--run-dir", str(run)]
    for item in overrides:
        args += ["--set", item]
    assert main(args) == 0
    assert (run / "tokenizer" / "spm.model").is_file()
    capsys.readouterr()
    assert main(["generate", str(run), "--prompt", "the cat", "--max-tokens", "8", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("the cat") and "▁" not in out  # pieces are joined back into text


def test_a_healthy_run_records_its_start_and_never_trips_the_divergence_guard(trained_run):
    state = json.loads((trained_run / "last" / "state.json").read_text())
    records = [json.loads(line) for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if r["split"] == "valid"]
    assert state["divergence"]["above"] == 0
    assert max(losses) < state["divergence"]["start_loss"]


def test_a_diverging_run_exits_3_and_keeps_its_best_checkpoint(tmp_path):
    # lr climbs by warmup from tiny to huge: the first validations are healthy, then the loss explodes
    run_dir = tmp_path / "run"
    sets = ["training.optimizer.lr=1000000", "training.schedule.warmup_steps=10000000"]
    sets += ["training.validate_every=10", "training.save_every=10", "training.max_steps=200"]
    result = run_cli(
        "train", str(TINY), "--run-dir", str(run_dir), *sum((["--set", s] for s in sets), []), check=False
    )
    assert result.returncode == 3, result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("seqlab train: error:")]
    assert len(error) == 1 and "lower training.optimizer.lr" in error[0]
    assert "divergence_patience" in error[0] or "max_abs_weight" in error[0]
    assert "best checkpoint (step" in error[0] and "model.safetensors" in error[0]
    best = load_file(run_dir / "best" / "model.safetensors")
    kept = load_file(run_dir / "model.safetensors")
    assert kept.keys() == best.keys() and all(torch.equal(kept[k], best[k]) for k in best)
    assert "done:" not in result.stdout


@pytest.mark.parametrize("lr", ["1000000", "1.0e+300"])
def test_a_run_diverging_at_once_exits_3_and_claims_no_checkpoint(tmp_path, lr):
    run_dir = tmp_path / "run"
    result = run_cli(
        "train", str(TINY), "--run-dir", str(run_dir), "--set", f"training.optimizer.lr={lr}", check=False
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("seqlab train: error:") and "no checkpoint was saved" in error
    assert not (run_dir / "last").exists() and not (run_dir / "model.safetensors").exists()


def test_without_a_best_checkpoint_train_and_generate_say_so(tmp_path):
    run_dir = tmp_path / "run"
    sets = ["training.optimizer.lr=1000000", "training.max_steps=40"]
    sets += ["training.divergence_patience=null", "training.max_abs_weight=null"]
    result = run_cli("train", str(TINY), "--run-dir", str(run_dir), *sum((["--set", s] for s in sets), []))
    assert not (run_dir / "model.safetensors").exists()
    assert "no model.safetensors" in result.stderr
    generated = run_cli("generate", str(run_dir), "--max-tokens", "3", "--greedy")
    warnings = [line for line in generated.stderr.splitlines() if "model.safetensors" in line]
    assert len(warnings) == 1 and str(run_dir / "last") in warnings[0]


# ---------------------------------------------------------------------------------------------
# Run directories: never overwritten by accident, verified on load (issue 14)
# ---------------------------------------------------------------------------------------------


def test_train_refuses_the_output_of_average(trained_run, tmp_path):
    """A directory with a model but no last/ (what `seqlab average` writes) is not overwritten."""
    averaged = tmp_path / "averaged"
    run_cli("average", str(trained_run), str(trained_run / "last"), "-o", str(averaged))
    before = {p.name: p.read_bytes() for p in averaged.iterdir() if p.is_file()}
    result = run_cli(
        "train", str(TINY), "--run-dir", str(averaged), "--set", "training.max_steps=2", check=False
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and str(averaged) in errors[0]
    assert "--resume" in errors[0] and "--overwrite" in errors[0]
    assert {p.name: p.read_bytes() for p in averaged.iterdir() if p.is_file()} == before
    run_cli("generate", str(averaged), "--max-tokens", "3")  # average writes a verified run


def test_train_into_a_file_is_one_line_exit_2(tmp_path):
    target = tmp_path / "a_file"
    target.write_text("keep")
    result = run_cli("train", str(TINY), "--run-dir", str(target), check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "a_file" in result.stderr and "not a directory" in result.stderr
    assert target.read_text() == "keep"


@pytest.mark.parametrize(
    "command",
    [
        ["generate", "--max-tokens", "3"],
        ["predict-next", "the"],
        ["evaluate"],
        ["export", "--format", "torchscript", "-o", "EXPORT"],
    ],
    ids=lambda c: c[0],
)
def test_commands_refuse_a_changed_weights_file_unless_no_verify(trained_run, tmp_path, capsys, command):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run, symlinks=True)
    data = bytearray((run / "model.safetensors").read_bytes())
    data[-2] ^= 0x08
    (run / "model.safetensors").write_bytes(bytes(data))
    args = [command[0], str(run), *[str(tmp_path / "out") if a == "EXPORT" else a for a in command[1:]]]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "model.safetensors" in err and "--no-verify" in err and len(err.strip().splitlines()) == 1
    assert main([*args, "--no-verify"]) == 0


def test_generate_with_a_beam(trained_run, capsys):
    args = ["generate", str(trained_run), "--prompt", "the", "--beam", "3", "--max-tokens", "6"]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("the")
    assert main(["generate", str(trained_run), "--beam", "2", "--temperature", "0.5"]) == 2
    assert "beam search does not sample" in capsys.readouterr().err
