"""Where seqlab's time goes on the peers benchmark: torch.profiler over training steps and decoding.

    .venv/bin/python bench/peers/profile_seqlab.py                       # after bench/peers/run.py
    .venv/bin/python bench/peers/profile_seqlab.py --input-feeding off --steps 10 --threads 2

Training: the peers architecture (emb 256, biLSTM 2x256, 2-layer decoder 512, Luong general,
input feeding on or off), the peers data batched as the benchmark does (``max_tokens`` 816), Adam
1e-3 and clip 1.0; ``--steps`` steps after 2 warm-up steps run under ``torch.profiler``.
Decoding: the model of the benchmark's quality run (``work/quality/<variant>/run``, so that
hypotheses end as a trained model's do; an untrained model runs every hypothesis to the length
limit), ``translate()`` of ``--sentences`` dev sources, beam 5 then greedy, batches of 64.

For each part it prints the operators with the most self CPU time, and the wall time against the
sum of all operators' self time: the difference is time outside torch operators (Python in the
model, the search and the data code, the profiler's own cost).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lstm_roofline import peers_model, s2s_pairs  # noqa: E402


def report(prof: profile, wall: float, title: str, rows: int) -> None:
    events = prof.key_averages()
    self_total = sum(e.self_cpu_time_total for e in events) / 1e6
    print(f"\n== {title}: wall {wall:.2f} s, torch operators' self time {self_total:.2f} s "
          f"({100 * self_total / wall:.0f} %), outside operators {wall - self_total:.2f} s")  # fmt: skip
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:rows]
    print(f"   {'operator':42s} {'calls':>8s} {'self s':>8s} {'% wall':>7s}")
    for e in top:
        s = e.self_cpu_time_total / 1e6
        print(f"   {e.key[:42]:42s} {e.count:8d} {s:8.2f} {100 * s / wall:7.1f}")


def profile_training(input_feeding: bool, steps: int, rows: int) -> None:
    from seqlab.data.batching.seq2seq import Seq2SeqLoader

    model = peers_model(input_feeding).train()
    pairs, source = s2s_pairs(4000)
    batches = [b for _, b in zip(range(steps + 2), Seq2SeqLoader(pairs, 816, shuffle=True, seed=0))]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(batch) -> None:  # noqa: ANN001
        loss, _ = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for batch in batches[:2]:
        step(batch)
    tokens = sum(b.num_tokens for b in batches[2:])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for batch in batches[2:]:
            step(batch)
        wall = time.perf_counter() - start
    title = (f"training, input feeding {'on' if input_feeding else 'off'}, {steps} steps, "
             f"{tokens / wall:.0f} target tok/s under the profiler ({source})")  # fmt: skip
    report(prof, wall, title, rows)


def profile_decoding(run_dir: Path, sentences: int, rows: int) -> None:
    import seqlab

    if not (run_dir / "config.yaml").is_file():
        print(f"\n(no trained run at {run_dir}: run bench/peers/run.py first; decoding not profiled)")
        return
    predictor = seqlab.load(run_dir)
    sources = (HERE / "work" / "data" / "dev.en").read_text(encoding="utf-8").splitlines()[:sentences]
    for beam in (5, 1):
        predictor.translate(sources[:8], beam_size=beam, batch_size=64, max_length=60, length_penalty="none")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            predictor.translate(sources, beam_size=beam, batch_size=64, max_length=60, length_penalty="none")
            wall = time.perf_counter() - start
        name = "greedy" if beam == 1 else f"beam {beam}"
        report(
            prof, wall, f"decoding {name}, {len(sources)} sentences, {len(sources) / wall:.1f} sent/s", rows
        )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--input-feeding", choices=("on", "off", "both"), default="both")
    p.add_argument("--sentences", type=int, default=256)
    p.add_argument("--rows", type=int, default=15)
    p.add_argument("--variant", default="seqlab", help="quality run to decode with (seqlab | seqlab-fused)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    for flag in {"on": [True], "off": [False], "both": [True, False]}[args.input_feeding]:
        profile_training(flag, args.steps, args.rows)
    profile_decoding(HERE / "work" / "quality" / args.variant / "run", args.sentences, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
