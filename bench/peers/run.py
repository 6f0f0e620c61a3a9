"""seqlab against Joey NMT and OpenNMT-py: same data, same architecture, same machine, one run.

``make bench-peers`` (or ``.venv/bin/python bench/peers/run.py``) does, in order:

1. ``bench/peers/setup``: the peers' virtual environment (torch==2.13.0 first, then joeynmt and
   OpenNMT-py from PyPI, constrained so torch cannot change); skipped when it is current.
2. ``data.py``: 20,000 training and 1,000 dev pairs of small_parallel_enja (en -> ja), 5-30 tokens,
   2,000-entry vocabularies, into ``bench/peers/work/data``.
3. Speed: ``--repeats`` rounds; in each, every variant trains ``--speed-steps`` steps from scratch
   as a subprocess, the order rotating from round to round. Target tokens/s are read per window of
   ``--speed-log-every`` steps; windows ending at or before ``--warmup`` steps are dropped; the
   table quotes the median over the remaining windows of all rounds.
4. Quality: every variant trains ``--steps`` steps once (order rotated again); its windows give a
   second tokens/s figure, and the model is kept for step 5.
5. Decoding: the 1,000 dev sources, batches of 64 sentences, beam 5 and greedy, no length penalty,
   at most 60 target tokens; sentences/s from each toolkit's own timing of its decoding loop, the
   median of ``--decode-repeats`` rounds (the order rotating); dev BLEU of each output (sacreBLEU,
   ``tokenize="none"``: the text is already tokenized).

Peak memory: the largest sum of PSS over each training subprocess tree (measure.py), in MB.
Threads: ``--threads`` (default 2) for all (launch.py calls torch.set_num_threads). Variants:
``seqlab`` (input feeding), ``seqlab-fused`` (Luong without input feeding: the fused decoder path),
``seqlab-int8`` (no training: decodes the ``seqlab`` model with int8 matrix products), ``joeynmt``,
``opennmt``. Everything written goes under ``--work`` (default ``bench/peers/work``,
git-ignored) and the summary to ``--out`` (default ``bench/results/peers.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # bench/: machine_info

from data import DataInfo, prepare  # noqa: E402
from machine_info import cpu_line  # noqa: E402
from measure import run_watched, thread_env  # noqa: E402
from report import print_table, seqlab_budget  # noqa: E402
from toolkits import (  # noqa: E402
    PEERS_PYTHON,
    VARIANTS,
    TrainSpec,
    Variant,
    decode_command,
    decode_seconds,
    hypotheses_path,
    train_command,
    train_windows,
)


def rotated(items: list[Variant], k: int) -> list[Variant]:
    k %= len(items)
    return items[k:] + items[:k]


def bleu(hyp_file: Path, ref_file: Path) -> float:
    import sacrebleu

    hyps = hyp_file.read_text(encoding="utf-8").splitlines()
    refs = ref_file.read_text(encoding="utf-8").splitlines()
    if len(hyps) != len(refs):
        raise RuntimeError(f"{hyp_file}: {len(hyps)} hypotheses for {len(refs)} references")
    return float(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score)


def train_once(v: Variant, run_dir: Path, spec: TrainSpec, warmup: int, threads: int) -> dict[str, Any]:
    if run_dir.exists():
        subprocess.run(["rm", "-rf", str(run_dir)], check=True)
    command = train_command(v, run_dir, spec)
    watched = run_watched(command, run_dir / "train.log", cwd=run_dir, env=thread_env(threads)).check()
    windows = train_windows(v, run_dir, watched.text())
    kept = [tok_s for step, tok_s in windows if step > warmup]
    if not kept:
        raise RuntimeError(f"{v.name}: no training window after step {warmup} in {watched.log}")
    print(
        f"   {v.name:13s} train {spec.steps:5d} steps: median {statistics.median(kept):8.1f} tok/s over "
        f"{len(kept)} windows, peak {watched.peak_tree_mb:7.0f} MB, wall {watched.wall_s:6.1f} s",
        flush=True,
    )
    return {
        "steps": spec.steps,
        "log_every": spec.log_every,
        "windows": windows,
        "kept_tok_s": kept,
        "peak_tree_mb": watched.peak_tree_mb,
        "peak_main_rss_mb": watched.peak_main_rss_mb,
        "wall_s": watched.wall_s,
        "log": watched.log,
    }


def decode_once(v: Variant, run_dir: Path, spec: TrainSpec, beam: int, info: DataInfo, threads: int) -> dict:
    """Decode with ``v``'s model (for a variant that ``decodes`` another's: that one's, from its
    folder beside ``run_dir``); hypotheses and log go to ``run_dir``."""
    out = run_dir / f"hyps.beam{beam}"
    run_dir.mkdir(parents=True, exist_ok=True)
    model_dir = run_dir.parent / v.decodes if v.decodes else run_dir
    command = decode_command(v, model_dir, spec, beam, out)
    watched = run_watched(command, run_dir / f"decode.beam{beam}.log", cwd=run_dir, env=thread_env(threads))
    watched.check()
    seconds = decode_seconds(v, watched.text(), info.dev_pairs)
    score = bleu(hypotheses_path(v, out), Path(info.path("dev.ja")))
    label = "greedy" if beam == 1 else f"beam {beam}"
    print(
        f"   {v.name:13s} {label:7s}: {info.dev_pairs / seconds:7.1f} sent/s "
        f"({seconds:6.1f} s), dev BLEU {score:5.2f}",
        flush=True,
    )
    return {"seconds": seconds, "sent_s": info.dev_pairs / seconds, "bleu": score, "log": watched.log}


def machine(threads: int) -> dict[str, str]:
    versions = {}
    for name, python, packages in (
        ("seqlab-env", sys.executable, ("torch", "seqlab")),
        ("peers-env", str(PEERS_PYTHON), ("torch", "joeynmt", "OpenNMT-py")),
    ):
        probe = (
            "import importlib.metadata as m; "
            f"print(';'.join(f'{{n}}=={{m.version(n)}}' for n in {packages!r}))"
        )
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=HERE)
        versions[name] = done.stdout.strip() or done.stderr.strip()[-200:]

    def git(*words: str) -> str:
        return subprocess.run(["git", "-C", str(HERE), *words], capture_output=True, text=True).stdout.strip()

    dirty = " + uncommitted seqlab/ changes" if git("status", "--porcelain", "--", "../../seqlab") else ""
    return {
        "seqlab_commit": git("rev-parse", "--short", "HEAD") + dirty,
        "cpu": cpu_line(),
        "logical_cores": str(__import__("os").cpu_count()),
        "threads": str(threads),
        "python": platform.python_version(),
        **versions,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2, help="speed rounds (0: speed from the quality run)")
    # OpenNMT-py's data-loader workers fill its 262,144-example bucket during its first tens of steps,
    # competing with training for the 2 cores: windows before --warmup are dropped for every toolkit.
    p.add_argument("--speed-steps", type=int, default=100)
    p.add_argument("--speed-log-every", type=int, default=10)
    p.add_argument("--warmup", type=int, default=50, help="speed windows ending at or before it are dropped")
    p.add_argument("--steps", type=int, default=600, help="training steps before decoding and dev BLEU")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--quality-warmup", type=int, default=100)
    p.add_argument("--beams", nargs="+", type=int, default=[5, 1])
    p.add_argument("--decode-repeats", type=int, default=3, help="decoding rounds (median; order rotates)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--onmt-workers", type=int, default=2, help="OpenNMT-py num_workers (its default: 2)")
    p.add_argument("--work", default=str(HERE / "work"))
    p.add_argument("--data", default=None, help="data root (default $SEQLAB_DATA or ../shared/data)")
    p.add_argument("--out", default=str(HERE.parent / "results" / "peers.json"))
    p.add_argument("--skip-setup", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [
        f"{n} decodes {VARIANTS[n].decodes}"
        for n in args.variants
        if VARIANTS[n].decodes not in (None, *args.variants)
    ]
    if missing:
        raise SystemExit(f"--variants: {'; '.join(missing)}, which is not among them")
    work = Path(args.work).resolve()
    started = time.time()
    if not args.skip_setup:
        subprocess.run(["bash", str(HERE / "setup")], check=True)
    info = prepare(work, Path(args.data) if args.data else None)
    variants = [VARIANTS[name] for name in args.variants]
    trained = [v for v in variants if v.decodes is None]  # the others decode a trained one's model
    max_tokens, mean_batch = seqlab_budget(info)
    common = {"seed": args.seed, "threads": args.threads, "data": Path(info.directory)}
    common |= {"max_tokens": max_tokens, "onmt_workers": args.onmt_workers}
    speed_spec = TrainSpec(steps=args.speed_steps, log_every=args.speed_log_every, **common)
    quality_spec = TrainSpec(steps=args.steps, log_every=args.log_every, **common)
    mach = machine(args.threads)
    print(f"machine: {mach}", flush=True)
    print(
        f"data: {info.train_pairs} train / {info.dev_pairs} dev pairs from {info.source}, vocabularies "
        f"{info.src_types}+4 / {info.tgt_types}+4; seqlab max_tokens {max_tokens} "
        f"({mean_batch:.1f} sentences per batch on average)",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {v.name: {"speed": [], "decode": {}} for v in variants}
    failed: dict[str, list[str]] = {v.name: [] for v in variants}

    def attempt(v: Variant, what: str, fn: Any, *fn_args: Any) -> Any:
        """fn(*fn_args), or None with the failure recorded (one toolkit's failure ends no run)."""
        try:
            return fn(*fn_args)
        except (RuntimeError, OSError, ValueError) as error:
            failed[v.name].append(f"{what}: {error}")
            print(f"   {v.name:13s} {what} FAILED: {str(error).splitlines()[0]}", flush=True)
            return None

    for repeat in range(args.repeats):
        print(f"== speed round {repeat + 1}/{args.repeats}", flush=True)
        for v in rotated(trained, repeat):
            run_dir = work / "speed" / v.name
            run = attempt(v, "speed", train_once, v, run_dir, speed_spec, args.warmup, args.threads)
            if run is not None:
                results[v.name]["speed"].append(run)
    print(f"== quality: {args.steps} steps each", flush=True)
    for v in rotated(trained, args.repeats):
        run_dir = work / "quality" / v.name
        run = attempt(v, "quality", train_once, v, run_dir, quality_spec, args.quality_warmup, args.threads)
        if run is not None:
            results[v.name]["quality"] = run
    for i, beam in enumerate(args.beams):
        for round_ in range(args.decode_repeats):
            label = "greedy" if beam == 1 else f"beam {beam}"
            print(f"== decoding, {label}, round {round_ + 1}/{args.decode_repeats}", flush=True)
            for v in rotated(variants, i + round_):
                if "quality" not in results[v.decodes or v.name]:
                    continue
                run_dir = work / "quality" / v.name
                what = f"beam {beam}"
                decoded = attempt(v, what, decode_once, v, run_dir, quality_spec, beam, info, args.threads)
                if decoded is not None:
                    results[v.name]["decode"].setdefault(str(beam), []).append(decoded)
    summary = print_table(results, args)
    payload = {
        "machine": mach,
        "args": vars(args),
        "data": info.__dict__,
        "seqlab_max_tokens": max_tokens,
        "seqlab_mean_batch_sentences": mean_batch,
        "summary": summary,
        "failures": failed,
        "runs": results,
        "wall_s": time.time() - started,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}")
    return 1 if any(failed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
