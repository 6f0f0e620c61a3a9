"""GPU check driver (run by ``bench/gpu_check.sh``): cuDNN training tokens/s, beam throughput and
peak GPU memory of the PTB medium LM and the Multi30k recipe, bf16 autocast on and off.

Each case runs in a fresh subprocess (``--case NAME``) so that ``torch.cuda.max_memory_allocated``
is that case's own peak. A training case is the real ``seqlab.training.pipeline.train`` on the recipe with
only these overrides: ``max_steps`` = ``--steps``, ``device`` cuda, ``amp`` bf16 or none,
``log_every`` = ``--log-every``, no validation or checkpoint inside the run (``validate_every`` and
``save_every`` past the end; the final validation and checkpoint after the last step are outside the
timing), ``progress`` off, and for Multi30k ``max_minutes`` off. tokens/s = median of the ``train``
records' ``tokens_per_s`` in ``metrics.jsonl`` after the first window (cuDNN plans, allocator warm-up).
The beam case loads the Multi30k bf16 run (``seqlab.load(run_dir, device="cuda")``) and times
``translate()`` over the 1,000 test_2016_flickr sources, batches of 64, beam 5 and greedy.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
CASES = {
    "ptb_medium_bf16": ("configs/ptb_word_medium.yaml", "bf16"),
    "ptb_medium_fp32": ("configs/ptb_word_medium.yaml", "none"),
    "multi30k_bf16": ("configs/multi30k_en_de_gpu.yaml", "bf16"),
    "multi30k_fp32": ("configs/multi30k_en_de_gpu.yaml", "none"),
}


def train_case(name: str, args: argparse.Namespace) -> dict:
    from seqlab.config import load_config
    from seqlab.training.pipeline import train

    config, amp = CASES[name]
    never = args.steps * 10
    overrides = [
        f"training.max_steps={args.steps}",
        f"training.device={args.device}",
        f"training.amp={amp}",
        f"training.log_every={args.log_every}",
        f"training.validate_every={never}",
        f"training.save_every={never}",
        "training.progress=false",
        "training.early_stopping_patience=null",
    ]
    if "multi30k" in name:
        overrides.append("training.max_minutes=null")
    cfg = load_config(REPO / config, overrides)
    run_dir = Path(args.work) / name
    cuda = args.device == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    train(cfg, run_dir)
    wall = time.perf_counter() - start
    records = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x.strip()]
    windows = [r["tokens_per_s"] for r in records if r.get("split") == "train"]
    kept = windows[1:] or windows
    return {
        "case": name,
        "config": config,
        "amp": amp,
        "steps": args.steps,
        "train_tok_s": statistics.median(kept) if kept else float("nan"),
        "windows_tok_s": windows,
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else float("nan"),
        "wall_s": wall,
        "run_dir": str(run_dir),
    }


def beam_case(args: argparse.Namespace) -> dict:
    import seqlab

    run_dir = Path(args.work) / "multi30k_bf16"
    root = Path(os.environ["SEQLAB_DATA"]) / "seq2seq" / "multi30k"
    with gzip.open(root / "test_2016_flickr.en.gz", "rt", encoding="utf-8") as f:
        sources = [line.strip() for line in f][:1000]
    cuda = args.device == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    sources = sources[: args.sentences]
    predictor = seqlab.load(run_dir, device=args.device)
    result: dict = {"case": "multi30k_beam", "sentences": len(sources)}
    predictor.translate(sources[:64], beam_size=5, batch_size=64)  # warm-up (cuDNN plans)
    for beam in (5, 1):
        sync()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        predictor.translate(sources, beam_size=beam, batch_size=64)
        sync()
        seconds = time.perf_counter() - start
        key = "greedy" if beam == 1 else f"beam{beam}"
        result[f"{key}_sent_s"] = len(sources) / seconds
        result[f"{key}_peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20 if cuda else float("nan")
    return result


def run_all(args: argparse.Namespace) -> int:
    results, failures = [], []
    for name in [*CASES, "multi30k_beam"]:
        command = [sys.executable, __file__, "--case", name, "--steps", str(args.steps),
                   "--log-every", str(args.log_every), "--work", args.work, "--device", args.device,
                   "--sentences", str(args.sentences)]  # fmt: skip
        print(f"== {name}", flush=True)
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.case_timeout)
        lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
        if done.returncode != 0 or not lines:
            failures.append(name)
            print(f"   FAILED ({done.returncode}):\n{done.stderr[-3000:]}", flush=True)
            continue
        results.append(json.loads(lines[-1][len("RESULT ") :]))
        print(f"   {results[-1]}", flush=True)
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else "none (--device cpu dry run)"
    cudnn = torch.backends.cudnn.version() if args.device == "cuda" else None
    print(f"\nGPU {gpu}, torch {torch.__version__}, cuDNN {cudnn}; {args.steps} steps")
    print(f"{'case':18s} | {'amp':5s} | {'train tok/s':>11s} | {'peak GPU MB':>11s} | {'wall s':>6s}")
    for r in results:
        if "train_tok_s" in r:
            print(f"{r['case']:18s} | {r['amp']:5s} | {r['train_tok_s']:11.0f} | {r['peak_gpu_mb']:11.0f} | "
                  f"{r['wall_s']:6.1f}")  # fmt: skip
    for r in results:
        if r["case"] == "multi30k_beam":
            print(f"multi30k decoding (bf16 run, 1,000 test sentences, batch 64): beam 5 "
                  f"{r['beam5_sent_s']:.1f} sent/s (peak {r['beam5_peak_gpu_mb']:.0f} MB), greedy "
                  f"{r['greedy_sent_s']:.1f} sent/s")  # fmt: skip
    payload = {"gpu": gpu, "torch": torch.__version__, "steps": args.steps, "results": results,
               "failures": failures}  # fmt: skip
    out_dir = os.environ.get("OUT")
    if out_dir:
        Path(out_dir, "gpu_check.json").write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {out_dir}/gpu_check.json")
    return 1 if failures else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", default=None, help="run one case in this process (internal)")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--work", default="/tmp/seqlab_gpu_check")
    p.add_argument("--case-timeout", type=int, default=150)
    p.add_argument("--sentences", type=int, default=1000, help="test sources decoded")
    p.add_argument("--device", default="cuda", help="cuda; cpu only to dry-run the script (tiny --steps)")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device")
    if args.case is None:
        return run_all(args)
    result = beam_case(args) if args.case == "multi30k_beam" else train_case(args.case, args)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
