"""Time to quality: validation quality against wall-clock minutes, seqlab against OpenNMT-py.

``make bench-ttq`` (or ``.venv/bin/python bench/peers/time_to_quality.py``) does, for each task
(``--task g2p multi30k``, both by default):

1. Data (``ttq_data.py``): the catalogue's ``cmudict_g2p`` train/valid (the same 5% word hold-out
   for both toolkits) or ``multi30k_en_de`` train/valid, written once into ``WORK/data/<task>`` as
   the plain files both toolkits read (Multi30k: one sentencepiece model per side, the same for both).
2. Probe: each toolkit trains for ``--probe-seconds``; its steps/s turn ``--checkpoint-every-minutes``
   into a checkpoint interval in steps (``ttq_toolkits.save_steps_for``).
3. Training: each toolkit trains from scratch for ``--minutes`` of wall clock (then its process is
   stopped), saving a checkpoint every that many steps: seqlab with its recipe for the task
   (``configs/seqlab_ttq_<task>.yaml``), OpenNMT-py as the issue configures it
   (``configs/opennmt_ttq.yaml``), ``--threads`` each, one after the other (the order alternating
   from task to task) or both at once with ``--side-by-side``.
4. Scores: after training, every checkpoint written within the budget decodes the validation sources
   (beam ``--beam``, GNMT length penalty ``--alpha``; each toolkit's own decoder) and the one scorer
   (``seqlab.metrics.references.score_outputs``: WER for G2P, each word against its closest
   pronunciation; sacreBLEU on detokenized text for Multi30k) scores the outputs. A checkpoint's
   minutes: from the launch of the training process to the writing of its weights file.
5. Report (``ttq_report.py``): minutes to WER 30 / 27 / 25 and BLEU 30 / 33 / 35, the best figure
   within ``--report-at`` minutes (30 and 60), seqlab/OpenNMT-py per target against the goal (at most
   0.5); a table on stdout, ``--out`` (JSON) and the plot next to it (``.png``).

Everything written goes under ``--work`` (default ``bench/peers/work/ttq``, git-ignored).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ttq_report  # noqa: E402
from measure import run_watched, thread_env  # noqa: E402
from ttq_data import HEADLINE, TASKS, TaskData, detokenizer, prepare, references, score  # noqa: E402
from ttq_toolkits import (  # noqa: E402
    TOOLKITS,
    Snapshots,
    TrainSpec,
    checkpoints,
    decode_command,
    rate_from_log,
    read_outputs,
    same_sentencepiece,
    save_steps_for,
    train_command,
)

POLL_S = 2.0  # memory polling of the training process tree (PSS reads cost CPU; keep it rare)
PROBE_LOG_EVERY = {"seqlab": 5, "opennmt": 10}


def train_one(toolkit: str, info: TaskData, run_dir: Path, spec: TrainSpec, limit_s: float) -> dict:
    """Train ``toolkit`` from scratch in ``run_dir`` for at most ``limit_s`` seconds of wall clock."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    command = train_command(toolkit, info, run_dir, spec)
    snapshots = Snapshots(run_dir / "run", run_dir / "snapshots") if toolkit == "seqlab" else nullcontext()
    launched_at = time.time()
    with snapshots:
        watched = run_watched(
            command, run_dir / "train.log", cwd=run_dir, env=thread_env(spec.threads), interval=POLL_S,
            timeout_s=limit_s,
        )  # fmt: skip
    return {
        "launched_at": launched_at,
        "wall_s": watched.wall_s,
        "returncode": watched.returncode,
        "stopped_at_limit": watched.wall_s >= limit_s,
        "peak_tree_mb": watched.peak_tree_mb,
        "log": watched.log,
        "save_steps": spec.save_steps,
        "missed_snapshots": getattr(snapshots, "missed", 0),
        "log_tail": watched.text().splitlines()[-5:],
    }


def run_toolkits(names: list[str], side_by_side: bool, job: Any) -> dict[str, Any]:
    """``job(name)`` for each toolkit, one after the other or all at once."""
    if not side_by_side:
        return {name: job(name) for name in names}
    with ThreadPoolExecutor(len(names)) as pool:
        futures = {name: pool.submit(job, name) for name in names}
        return {name: future.result() for name, future in futures.items()}


def probe(info: TaskData, names: list[str], args: argparse.Namespace, work: Path) -> dict[str, float]:
    """Steps/s of each toolkit over a ``--probe-seconds`` training run (no checkpoint inside it)."""

    def job(name: str) -> float:
        run_dir = work / info.task / "probe" / name
        spec = TrainSpec(args.threads, args.seed, 10 * args.probe_seconds / 60, 10**8, PROBE_LOG_EVERY[name],
                         args.onmt_workers, tuple(args.seqlab_set))  # fmt: skip
        done = train_one(name, info, run_dir, spec, args.probe_seconds)
        rate = rate_from_log(name, run_dir, Path(done["log"]).read_text(encoding="utf-8", errors="replace"))
        if rate is None:
            tail = "\n".join(done["log_tail"])
            raise SystemExit(f"{info.task} {name}: fewer than two progress records in the probe; "
                             f"raise --probe-seconds (log {done['log']}):\n{tail}")  # fmt: skip
        print(f"   {info.task} {name:8s} probe: {rate:7.2f} steps/s", flush=True)
        return rate

    return run_toolkits(names, args.side_by_side, job)


def decode_curve(name: str, info: TaskData, run: dict, args: argparse.Namespace, run_dir: Path) -> list:
    """Decode and score every checkpoint written within the budget; the curve."""
    refs, detok = references(info), detokenizer(info)
    curve = []
    for ckpt in checkpoints(name, run_dir, run["launched_at"]):
        point: dict[str, Any] = {"step": ckpt.step, "minutes": ckpt.minutes}
        if ckpt.minutes > args.minutes:
            point["metric"] = None
            point["note"] = "after the budget: not decoded"
            curve.append(point)
            continue
        out = run_dir / "decoded" / f"step-{ckpt.step}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        command = decode_command(name, info, run_dir, ckpt, out, args.beam, args.alpha, args.threads)
        started = time.perf_counter()
        env = thread_env(args.threads)
        done = subprocess.run(command, cwd=run_dir, env=env, capture_output=True, text=True)
        point["decode_s"] = time.perf_counter() - started
        if done.returncode != 0 or not out.is_file():
            point["metric"] = None
            point["note"] = f"decoding failed ({done.returncode}): {done.stderr.strip()[-300:]}"
        else:
            point["scores"] = score(info.task, read_outputs(name, out, detok), refs)
            point["metric"] = point["scores"][HEADLINE[info.task]]
        shown = "-" if point["metric"] is None else f"{point['metric']:6.2f}"
        print(
            f"   {info.task} {name:8s} step {ckpt.step:7d} at {ckpt.minutes:6.2f} min: "
            f"{HEADLINE[info.task]} {shown} (decoded in {point['decode_s']:.0f} s)",
            flush=True,
        )
        curve.append(point)
    return curve


def run_task(task: str, names: list[str], args: argparse.Namespace, work: Path, order: int) -> dict:
    info = prepare(task, work)
    print(f"== {task}: {info.train_pairs} train / {info.valid_pairs} valid pairs "
          f"({info.test_sources} test sources), {info.directory}", flush=True)  # fmt: skip
    names = names[order % len(names) :] + names[: order % len(names)]
    rates = probe(info, names, args, work)
    limit_s = args.minutes * 60 + args.grace_seconds

    def job(name: str) -> dict:
        save = save_steps_for(rates[name], args.checkpoint_every_minutes)
        spec = TrainSpec(args.threads, args.seed, args.minutes, save, args.log_every, args.onmt_workers,
                         tuple(args.seqlab_set))  # fmt: skip
        print(f"   {task} {name:8s} training {args.minutes:g} min, checkpoint every {save} steps", flush=True)
        return train_one(name, info, work / task / "train" / name, spec, limit_s)

    runs = run_toolkits(names, args.side_by_side, job)
    curves = {}
    for name in names:
        runs[name]["probe_steps_per_s"] = rates[name]
        curves[name] = decode_curve(name, info, runs[name], args, work / task / "train" / name)
    if "seqlab" in runs:
        same = same_sentencepiece(info, work / task / "train" / "seqlab")
        runs["seqlab"]["same_sentencepiece_as_opennmt"] = same
    summary = ttq_report.summarize_task(task, curves, args.minutes, args.report_at)
    return {"data": info.__dict__, "order": names, "runs": runs, "curves": curves, "summary": summary}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", nargs="+", default=list(TASKS), choices=list(TASKS))
    p.add_argument("--toolkits", nargs="+", default=list(TOOLKITS), choices=list(TOOLKITS))
    p.add_argument("--minutes", type=float, default=60.0, help="training budget per toolkit and task")
    p.add_argument("--checkpoint-every-minutes", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=1, help="threads per toolkit")
    p.add_argument("--side-by-side", action="store_true", help="train the toolkits at the same time")
    p.add_argument("--probe-seconds", type=float, default=90.0, help="probe run setting checkpoint steps")
    p.add_argument("--grace-seconds", type=float, default=10.0, help="after the budget, before the stop")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--alpha", type=float, default=0.6, help="GNMT length penalty (0: none)")
    p.add_argument("--report-at", nargs="+", type=float, default=[30.0, 60.0])
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--onmt-workers", type=int, default=0, help="OpenNMT-py data-loader workers")
    p.add_argument(
        "--seqlab-set", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="override seqlab's recipe for a candidate (passed to `seqlab train --set`; repeatable)",
    )  # fmt: skip
    p.add_argument("--work", default=str(HERE / "work" / "ttq"))
    p.add_argument("--out", default=str(HERE.parent / "results" / "time_to_quality.json"))
    p.add_argument("--skip-setup", action="store_true", help="do not run bench/peers/setup first")
    args = p.parse_args(argv)
    if args.minutes <= 0 or args.checkpoint_every_minutes <= 0 or args.probe_seconds <= 0:
        p.error("--minutes, --checkpoint-every-minutes and --probe-seconds must be > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.time()
    if not args.skip_setup and "opennmt" in args.toolkits:
        subprocess.run(["bash", str(HERE / "setup")], check=True)
    from run import machine

    mach = machine(args.threads)
    print(f"machine: {mach}", flush=True)
    work = Path(args.work).resolve()
    results = {task: run_task(task, list(args.toolkits), args, work, i) for i, task in enumerate(args.task)}
    mode = "side by side" if args.side_by_side else "one after the other"
    print(f"\n{args.threads} thread(s) each, {mode}; budget {args.minutes:g} min; checkpoints about every "
          f"{args.checkpoint_every_minutes:g} min; beam {args.beam}, GNMT alpha {args.alpha:g}")  # fmt: skip
    for task, result in results.items():
        print("\n".join(["", *ttq_report.table_lines(task, result["summary"], list(result["curves"]))]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": mach, "args": vars(args), "tasks": results, "wall_s": time.time() - started}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    png = ttq_report.plot(out.with_suffix(".png"), {t: r["curves"] for t, r in results.items()}, args.minutes)
    print(f"\nwrote {out} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
