"""Language-model generation speed: tokens/s of ``LanguageModelPredictor.generate``, one code tree
against another, in the same run.

Two run directories are trained once into ``--work`` from ``configs/tiny_lm.yaml`` (the fixture's
vocabulary): ``tiny`` (the recipe, 16/32, 2 layers) and ``mid`` (embeddings and hidden size 650, 2
layers: PTB-medium's LSTM, with the fixture's small vocabulary). For each tree (``--tree DIR``, a
checkout whose ``seqlab`` is imported; default: this repository), each repeat runs one subprocess
that times greedy and sampled generation of ``--max-tokens`` tokens at batch 1 and 16
(``num_samples``; ``stop_at_eos`` off, so every row makes every token), after one warm-up call.
The trees alternate from one repeat to the next; the table gives medians over ``--repeats``.

Run from the repository root (compare with the code before a change: ``git archive BASE seqlab |
tar -x -C /tmp/base``)::

    OMP_NUM_THREADS=1 .venv/bin/python bench/lm_generate.py --tree /tmp/base --tree .
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = {
    "tiny": [],
    "mid": ["model.embedding_size=650", "model.hidden_size=650", "training.max_steps=2"],
}
CASES = [(mode, batch) for mode in ("greedy", "sample") for batch in (1, 16)]


def train_runs(work: Path) -> dict[str, Path]:
    """Train (once) the run directories of :data:`MODELS` into ``work``."""
    from seqlab.config import load_config
    from seqlab.training.pipeline import train

    runs = {}
    for name, overrides in MODELS.items():
        run_dir = work / name
        if not (run_dir / ".trained").is_file():
            cfg = load_config(REPO / "configs" / "tiny_lm.yaml", [*overrides, "training.progress=false"])
            train(cfg, run_dir)
            (run_dir / ".trained").write_text("ok\n")
        runs[name] = run_dir
    return runs


def measure(run_dir: Path, max_tokens: int) -> dict[str, float]:
    """tokens/s of each case of :data:`CASES` for the predictor of ``run_dir`` (this process's seqlab)."""
    import torch

    from seqlab.api import load

    torch.set_num_threads(1)
    predictor = load(run_dir)
    results = {}
    for mode, batch in CASES:
        kwargs = dict(greedy=mode == "greedy", seed=0, num_samples=batch)
        predictor.generate("the", 5, **kwargs)  # warm-up
        start = time.perf_counter()
        predictor.generate("the", max_tokens, **kwargs)
        results[f"{mode}/{batch}"] = batch * max_tokens / (time.perf_counter() - start)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", help="a checkout to import seqlab from (repeatable)")
    parser.add_argument("--work", default=str(REPO / "runs" / "bench" / "lm_generate"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: a run directory to time
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.max_tokens)))
        return
    trees = [str(Path(t).resolve()) for t in (args.tree or [str(REPO)])]
    runs = train_runs(Path(args.work))
    table: dict[tuple[str, str], dict[str, list[float]]] = {}
    for repeat in range(args.repeats):
        order = trees if repeat % 2 == 0 else trees[::-1]
        for tree in order:
            for name, run_dir in runs.items():
                env = {**os.environ, "PYTHONPATH": tree, "OMP_NUM_THREADS": "1"}
                command = [sys.executable, __file__, "--measure", str(run_dir)]
                command += ["--max-tokens", str(args.max_tokens)]
                out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
                for case, value in json.loads(out.stdout.strip().splitlines()[-1]).items():
                    table.setdefault((name, case), {}).setdefault(tree, []).append(value)
    head = "| model | case (mode/batch) | " + " | ".join(f"tokens/s {Path(t).name}" for t in trees)
    print(head + (" | ratio last/first |" if len(trees) > 1 else " |"))
    print("|" + "---|" * (2 + len(trees) + (len(trees) > 1)))
    for (name, case), by_tree in table.items():
        medians = [statistics.median(by_tree[t]) for t in trees]
        cells = " | ".join(f"{m:,.0f}" for m in medians)
        ratio = f" | x{medians[-1] / medians[0]:.2f}" if len(trees) > 1 else ""
        print(f"| {name} | {case} | {cells}{ratio} |")


if __name__ == "__main__":
    main()
