"""Kill-point campaign: SIGKILL a tiny training run at many moments, resume it, compare bitwise.

Each trial starts ``seqlab train configs/tiny_lm.yaml`` in a fresh run directory, kills it with
SIGKILL after a delay drawn from a seeded uniform distribution over the uninterrupted run's wall time
(so kills land in steps, validations and saves alike), then runs ``--resume`` (killing it once more
in half of the trials) and finally ``--resume`` to the end (``--overwrite`` when the kill came before
the first checkpoint). The final ``last/model.safetensors`` must
be bitwise equal to the uninterrupted run's. Each row also says what the kill left behind (the last
logged step, whether ``last/`` existed), and whether every resume started without an error.

    OMP_NUM_THREADS=1 .venv/bin/python bench/kill_points.py --trials 18
    (JSON to bench/results/kill_points.json)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "tiny_lm.yaml"


def train_cmd(run_dir: Path, steps: int, resume: bool) -> list[str]:
    """``--resume`` when asked; else ``--overwrite`` when a kill left a run with no checkpoint yet."""
    cmd = [sys.executable, "-m", "seqlab", "train", str(CONFIG), "--run-dir", str(run_dir)]
    cmd += ["--set", f"training.max_steps={steps}"]
    if resume:
        return [*cmd, "--resume"]
    return [*cmd, "--overwrite"] if run_dir.exists() else cmd


def run_env() -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))


def last_logged_step(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return 0
    steps = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            steps.append(json.loads(line)["step"])
        except (ValueError, KeyError):
            continue  # a line cut by the kill
    return max(steps, default=0)


def run_to_end(run_dir: Path, steps: int, resume: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        train_cmd(run_dir, steps, resume), cwd=REPO, env=run_env(), capture_output=True, text=True
    )


def kill_after(run_dir: Path, steps: int, resume: bool, delay_s: float) -> dict:
    """Start training, SIGKILL it after ``delay_s`` (or let it end first); say what was left."""
    proc = subprocess.Popen(
        train_cmd(run_dir, steps, resume),
        cwd=REPO,
        env=run_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        proc.wait(timeout=delay_s)
        killed = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = True
    stderr = proc.stderr.read() if proc.stderr else ""
    return {
        "delay_s": round(delay_s, 2),
        "killed": killed,
        "exit": proc.returncode,
        "error": "" if killed or proc.returncode == 0 else stderr.strip().splitlines()[-1:],
        "step_logged": last_logged_step(run_dir),
        "last_exists": (run_dir / "last").exists(),
    }


def equal_weights(a: Path, b: Path) -> bool:
    wa, wb = (
        load_file(str(a / "last" / "model.safetensors")),
        load_file(str(b / "last" / "model.safetensors")),
    )
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=18)
    parser.add_argument("--steps", type=int, default=160)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "kill_points.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        whole = Path(tmp) / "whole"
        start = time.perf_counter()
        done = run_to_end(whole, args.steps, resume=False)
        duration = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"the uninterrupted run failed: {done.stderr.strip()[-500:]}")
        print(f"uninterrupted: {args.steps} steps in {duration:.1f} s")
        print("| trial | kills (delay s -> step logged, last/ exists) | resumes ok | bitwise equal |")
        print("|---:|---|---|---|")
        rows = []
        for trial in range(args.trials):
            run_dir = Path(tmp) / f"trial{trial}"
            kills = [kill_after(run_dir, args.steps, False, rng.uniform(0.5, duration))]
            if trial % 2 == 1 and kills[0]["last_exists"]:
                kills.append(kill_after(run_dir, args.steps, True, rng.uniform(0.5, duration / 2)))
            resumable = (run_dir / "last").exists()
            final = run_to_end(run_dir, args.steps, resume=resumable)
            ok = final.returncode == 0 and all(k["exit"] in (0, -signal.SIGKILL) for k in kills)
            equal = ok and equal_weights(whole, run_dir)
            row = {"trial": trial, "kills": kills, "final_resumed": resumable, "ok": ok, "equal": equal}
            if final.returncode != 0:
                row["final_error"] = final.stderr.strip().splitlines()[-1:]
            rows.append(row)
            shown = "; ".join(f"{k['delay_s']} -> {k['step_logged']}, {k['last_exists']}" for k in kills)
            print(f"| {trial} | {shown} | {ok} | {equal} |", flush=True)

    summary = {
        "trials": args.trials,
        "kills": sum(len(r["kills"]) for r in rows),
        "bitwise_equal": sum(r["equal"] for r in rows),
        "uninterrupted_s": round(duration, 1),
        "median_kill_delay_s": statistics.median(k["delay_s"] for r in rows for k in r["kills"]),
    }
    print(
        f"{summary['bitwise_equal']}/{summary['trials']} trials bitwise equal after {summary['kills']} kills"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
