"""How much arithmetic the peers benchmark's model does, and what ratio over a peer it leaves.

Reads a ``peers.json`` written by ``bench/peers/run.py``, counts the matrix-product FLOPs of one
training step of the benchmark's architecture on its training data (analytically, from the
sentence lengths), times ``torch.mm`` at the products' shapes on this machine, and prints for every
toolkit: the training FLOP rate its target tokens/s amounts to, as a fraction of the best
``torch.mm`` rate; and the *ceiling*: target tokens/s if every FLOP ran at that best rate, as a
multiple of each peer's measured speed. A toolkit that computes the same model cannot beat a peer
by more than that multiple on this machine, whatever its code does.

The count is a lower bound, so the ceiling is generous: matrix products only (no pointwise work,
softmax, optimizer, data), forward + backward = 3 x forward, no bridge, sources without ``</s>``.
Per target token (a decoder step; ``</s>`` counted, as the benchmark's tokens/s counts it), with
E 256, encoder 2 x 2 directions x 256, decoder 2 x 512, V 2,000, S the source length:

- decoder layer 1: 4 x 512 x (256 + 512 [input feed] + 512); layer 2: 4 x 512 x 1,024;
- attention (``general``, keys projected once per source token): scores and context 2 x 512 x S;
  ``tanh(W [h; c])``: 512 x 1,024; output layer: 512 x 2,000;
- per source token: encoder layer 1: 2 x 4 x 256 x (256 + 256), layer 2: 2 x 4 x 256 x (512 + 256);
  the attention keys 512 x 512.

    .venv/bin/python bench/peers/arithmetic.py --results bench/results/peers.json --threads 2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_roofline import mm_seconds  # noqa: E402

E, ENC, DEC, V = 256, 256, 512, 2000


def forward_macs(src_len: int, tgt_steps: int, input_feeding: bool) -> float:
    """Multiply-accumulates of one sentence pair's forward pass (matrix products only)."""
    layer1_in = E + DEC + (DEC if input_feeding else 0)
    per_step = 4 * DEC * layer1_in + 4 * DEC * 2 * DEC + 2 * DEC * src_len + DEC * 2 * DEC + DEC * V
    per_source = 2 * 4 * ENC * (E + ENC) + 2 * 4 * ENC * (2 * ENC + ENC) + DEC * DEC
    return float(tgt_steps * per_step + src_len * per_source)


def flops_per_target_token(data: Path, input_feeding: bool) -> tuple[float, int]:
    """(training FLOPs per target token, target tokens) over the benchmark's training pairs."""
    sources = (data / "train.en").read_text(encoding="utf-8").splitlines()
    targets = (data / "train.ja").read_text(encoding="utf-8").splitlines()
    total, tokens = 0.0, 0
    for src, tgt in zip(sources, targets, strict=True):
        steps = len(tgt.split()) + 1  # the words and </s>
        total += forward_macs(len(src.split()), steps, input_feeding)
        tokens += steps
    return 3 * 2 * total / tokens, tokens  # 2 FLOPs a MAC; forward + backward = 3 x forward


def decode_flops_per_sentence(data: Path, beam: int) -> float:
    """Forward FLOPs to decode one dev sentence with ``beam`` rows per sentence, taking the reference
    length (+ ``</s>``) as the output length: an estimate (each toolkit's outputs have their own)."""
    sources = (data / "dev.en").read_text(encoding="utf-8").splitlines()
    targets = (data / "dev.ja").read_text(encoding="utf-8").splitlines()
    total = 0.0
    for src, tgt in zip(sources, targets, strict=True):
        steps = len(tgt.split()) + 1
        encoder = forward_macs(len(src.split()), 0, True)
        total += encoder + beam * (forward_macs(len(src.split()), steps, True) - encoder)
    return 2 * total / len(sources)


def best_mm_rate(shapes: list[tuple[int, int, int]], min_time: float = 0.3) -> tuple[float, dict]:
    """The best GFLOP/s of torch.mm (float32) over ``shapes`` [m, k] x [k, n], and each shape's
    (timed by ``bench/lstm_roofline.py``'s ``mm_seconds``)."""
    cache: dict = {}
    rates = {f"{m}x{k}x{n}": 2 * m * k * n / mm_seconds(m, k, n, cache, min_time) / 1e9 for m, k, n in shapes}
    return max(rates.values()), rates


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", type=Path, default=Path("bench/results/peers.json"))
    p.add_argument("--threads", type=int, default=None, help="default: the results' thread count")
    p.add_argument("--mm-seconds", type=float, default=0.3, help="timing per torch.mm shape")
    p.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = p.parse_args(argv)
    if not args.results.is_file():
        print(f"error: {args.results}: no such file; run bench/peers/run.py first", file=sys.stderr)
        return 2
    results = json.loads(args.results.read_text(encoding="utf-8"))
    threads = args.threads or int(results["machine"]["threads"])
    torch.set_num_threads(threads)
    data = Path(results["data"]["directory"])
    if not (data / "train.en").is_file():  # results from another checkout: this one's data
        data = Path(__file__).resolve().parent / "work" / "data"
    if not (data / "train.en").is_file():
        print(
            f"error: {data}: no benchmark data; run bench/peers/run.py (it writes it) first", file=sys.stderr
        )
        return 2
    batch = round(results.get("seqlab_mean_batch_sentences", 64))
    # the products of the step at its shapes (per step: batch rows), and of the whole batch
    shapes = [
        (batch, E + 2 * DEC, 4 * DEC),
        (batch, 2 * DEC, 4 * DEC),
        (batch, 4 * DEC, 2 * DEC),
        (2 * DEC, batch, 4 * DEC),
        (batch * 16, DEC, V),
        (batch * 16, E + ENC, 4 * ENC),
        (1024, 1024, 2048),
    ]
    peak, rates = best_mm_rate(shapes, args.mm_seconds)
    flops = {feeding: flops_per_target_token(data, feeding)[0] for feeding in (True, False)}
    medians = results["summary"]["medians"]
    print(
        f"machine: {results['machine'].get('cpu', '?')}, {threads} thread(s), torch {torch.__version__}; "
        f"results {args.results} (seqlab {results['machine'].get('seqlab_commit', '?')})"
    )
    print("torch.mm GFLOP/s at the step's shapes: " + ", ".join(f"{k} {v:.1f}" for k, v in rates.items()))
    print(
        f"training arithmetic (matrix products, lower bound): {flops[True] / 1e6:.1f} MFLOP per target "
        f"token with input feeding, {flops[False] / 1e6:.1f} without\n"
    )
    ceiling = {feeding: peak * 1e9 / flops[feeding] for feeding in flops}
    print(f"{'toolkit':14s} {'tok/s':>8s} {'GFLOP/s':>8s} {'of mm peak':>10s} {'ceiling / this':>15s}")
    table = {}
    for name, row in medians.items():
        tok_s = row.get("train_tok_s")
        if not tok_s:
            continue
        feeding = name != "seqlab-fused"
        rate = tok_s * flops[feeding] / 1e9
        table[name] = {
            "tok_s": tok_s,
            "gflop_s": rate,
            "fraction": rate / peak,
            "headroom": ceiling[feeding] / tok_s,
        }
        print(f"{name:14s} {tok_s:8.0f} {rate:8.1f} {rate / peak:10.2f} {ceiling[feeding] / tok_s:14.2f}x")
    print(
        f"\nceiling (every FLOP at the best mm rate, {peak:.1f} GFLOP/s): {ceiling[True]:.0f} target tok/s "
        f"with input feeding, {ceiling[False]:.0f} without"
    )
    onmt = medians.get("opennmt", {}).get("train_tok_s")
    if onmt:
        print(
            f"largest possible ratio over OpenNMT-py at this arithmetic: {ceiling[True] / onmt:.2f}x with "
            f"input feeding (goal 1.5x), {ceiling[False] / onmt:.2f}x on the fused path (goal 3x)"
        )
    decoding = {}
    for beam, key in ((5, "beam5_sent_s"), (1, "greedy_sent_s")):
        sentence_flops = decode_flops_per_sentence(data, beam)
        ceiling_sent = peak * 1e9 / sentence_flops
        measured = {name: row[key] for name, row in medians.items() if row.get(key)}
        decoding[key] = {"flops_per_sentence": sentence_flops, "ceiling_sent_s": ceiling_sent}
        print(
            f"{'beam 5' if beam > 1 else 'greedy'}: about {sentence_flops / 1e6:.0f} MFLOP per dev sentence "
            f"(reference lengths), ceiling {ceiling_sent:.0f} sentences/s; "
            + ", ".join(
                f"{name} {value:.0f} ({ceiling_sent / value:.2f}x below)" for name, value in measured.items()
            )
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"threads": threads, "mm_rates": rates, "peak": peak, "flops_per_token": {
            "input_feeding": flops[True], "fused": flops[False]}, "toolkits": table,
            "ceiling_tok_s": {"input_feeding": ceiling[True], "fused": ceiling[False]},
            "decoding": decoding}  # fmt: skip
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
