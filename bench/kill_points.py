"""Kill-point campaign: SIGKILL a tiny training run at many moments, resume it, compare bitwise.

Each trial starts ``seqlab train configs/tiny_lm.yaml`` in a fresh run directory and kills it with
SIGKILL at a step drawn from a seeded uniform distribution, plus 0-50 ms so that some kills land
inside validations and saves (the log is written every 5 steps, a checkpoint every 20). In half of
the trials ``--resume`` is killed once more the same way. Then ``--resume`` runs to the end
(``--overwrite`` when the kill came before the first checkpoint). The final
``last/model.safetensors`` must be bitwise equal to the uninterrupted run's. Each row says what each
kill left: the last logged step, whether ``last/`` existed, whether a save was cut (``.tmp-*``
leftovers) and whether the run directory still verified against its manifests.

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
    cmd += ["--set", f"training.max_steps={steps}", "--set", "training.log_every=5"]
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


def verifies(run_dir: Path) -> bool:
    """The run directory and its ``last/`` checkpoint pass their manifests (when they exist)."""
    from seqlab.errors import IntegrityError
    from seqlab.rundir.manifest import verify_manifest

    try:
        for folder in (run_dir, run_dir / "last"):
            if folder.is_dir():
                verify_manifest(folder)
    except IntegrityError:
        return False
    return True


def kill_after(run_dir: Path, steps: int, resume: bool, target_step: int, jitter_s: float) -> dict:
    """Start training and SIGKILL it ``jitter_s`` after its log first shows ``target_step`` (or let it
    end first); say what the kill left: the last logged step, whether ``last/`` exists, whether a save
    was cut (its ``.tmp-*`` leftovers are there) and whether the run directory still verifies."""
    proc = subprocess.Popen(
        train_cmd(run_dir, steps, resume),
        cwd=REPO,
        env=run_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    while proc.poll() is None and last_logged_step(run_dir) < target_step:
        time.sleep(0.002)
    time.sleep(jitter_s)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    return {
        "target_step": target_step,
        "jitter_s": round(jitter_s, 3),
        "killed": killed,
        "exit": proc.returncode,
        "error": "" if killed or proc.returncode == 0 else stderr.strip().splitlines()[-1:],
        "step_logged": last_logged_step(run_dir),
        "last_exists": (run_dir / "last").exists(),
        "in_save": any(run_dir.rglob(".tmp-*")),
        "verifies": verifies(run_dir),
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
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "kill_points.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        whole = Path(tmp) / "whole"
        start = time.perf_counter()
        done = run_to_end(whole, args.steps, resume=False)
        if done.returncode != 0:
            raise SystemExit(f"the uninterrupted run failed: {done.stderr.strip()[-500:]}")
        print(f"uninterrupted: {args.steps} steps in {time.perf_counter() - start:.1f} s")
        print(
            "| trial | kills (at step + s -> step logged, last/, cut a save, verifies) "
            "| resumes ok | bitwise equal |"
        )
        print("|---:|---|---|---|")
        rows = []
        for trial in range(args.trials):
            run_dir = Path(tmp) / f"trial{trial}"
            target = rng.randrange(1, args.steps)
            kills = [kill_after(run_dir, args.steps, False, target, rng.uniform(0.0, 0.05))]
            logged = kills[0]["step_logged"]
            if trial % 2 == 1 and kills[0]["last_exists"] and logged + 5 < args.steps:
                target = rng.randrange(logged + 5, args.steps)
                kills.append(kill_after(run_dir, args.steps, True, target, rng.uniform(0.0, 0.05)))
            resumable = (run_dir / "last").exists()
            final = run_to_end(run_dir, args.steps, resume=resumable)
            ok = final.returncode == 0 and all(
                k["exit"] in (0, -signal.SIGKILL) and k["verifies"] for k in kills
            )
            equal = ok and equal_weights(whole, run_dir)
            row = {"trial": trial, "kills": kills, "final_resumed": resumable, "ok": ok, "equal": equal}
            if final.returncode != 0:
                row["final_error"] = final.stderr.strip().splitlines()[-1:]
            rows.append(row)
            shown = "; ".join(
                f"{k['target_step']} + {k['jitter_s']} -> {k['step_logged']}, {k['last_exists']}, "
                f"{k['in_save']}, {k['verifies']}"
                for k in kills
            )
            print(f"| {trial} | {shown} | {ok} | {equal} |", flush=True)

    summary = {
        "trials": args.trials,
        "kills": sum(len(r["kills"]) for r in rows),
        "bitwise_equal": sum(r["equal"] for r in rows),
        "kills_inside_a_save": sum(k["in_save"] for r in rows for k in r["kills"]),
        "kills_before_first_checkpoint": sum(not r["kills"][0]["last_exists"] for r in rows),
        "median_kill_step": statistics.median(k["step_logged"] for r in rows for k in r["kills"]),
    }
    print(
        f"{summary['bitwise_equal']}/{summary['trials']} trials bitwise equal after {summary['kills']} kills"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
