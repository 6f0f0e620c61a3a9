"""How close seqlab's LSTM training steps come to what torch.mm reaches at the same shapes.

1. *Roofline*: for every matrix product an LSTM layer does in one training step (forward: the input
   projection ``[B*T, I] x [I, 4H]`` (or ``T`` products ``[B, I] x [I, 4H]`` where the input depends
   on the previous step: the input-feeding decoder's first layer) and ``T`` recurrent products
   ``[B, H] x [H, 4H]``; backward: the gradients of the inputs, of the hidden states and of both
   weights), this times ``torch.mm`` alone at that shape and sums the times: the roofline is the
   LSTM FLOPs / that ideal time, i.e. what the step's LSTM work could reach if it were nothing but
   back-to-back ``torch.mm`` calls at these shapes on this machine.
2. *Achieved*: a real seqlab training step (``model.loss(batch)``, ``backward``, clip, Adam) of the
   LM (default ``configs/ptb_word_medium.yaml``, its batch x bptt) and of the Seq2Seq model of the
   peers benchmark (emb 256, biLSTM 2x256, 2-layer decoder 512, Luong general, with and without
   input feeding, 64-sentence batches of the peers data or of synthetic 5-30-token pairs), timed
   (median over ``--steps``); achieved = LSTM FLOPs of the step / step time.
   fraction = achieved / roofline. The rest of the step (embeddings, softmax and its projection,
   attention, the optimizer, Python) is in the step time but not in the FLOPs: the fraction is
   what share of the machine's matmul rate the step turns into LSTM work.
3. *Fused vs cell loop*: ``nn.LSTM`` over a whole sequence against an ``nn.LSTMCell`` loop at the
   same shapes, forward + backward, GFLOP/s of the LSTM FLOPs.

FLOPs of a product [m, k] x [k, n] = 2mkn; backward = 2 x forward for every weight product.

    .venv/bin/python bench/lstm_roofline.py                 # 2 threads, ~2-4 min on 2 cores
    .venv/bin/python bench/lstm_roofline.py --threads 1 --steps 3 --out runs/bench/roofline.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from machine_info import cpu_line
from torch import nn

REPO = Path(__file__).resolve().parents[1]
PEERS_DATA = REPO / "bench" / "peers" / "work" / "data"


@dataclass(frozen=True)
class Layer:
    """One LSTM layer (one direction): batch B, steps T, input I, hidden H; ``stepwise_input``:
    the input projection cannot be batched over time (input feeding)."""

    B: int
    T: int
    I: int  # noqa: E741
    H: int
    stepwise_input: bool = False

    def products(self) -> list[tuple[int, int, int, int]]:
        """(m, k, n, count) of every torch.mm in forward + backward."""
        B, T, I, H = self.B, self.T, self.I, self.H  # noqa: E741
        inp = [(B, I, 4 * H, T)] if self.stepwise_input else [(B * T, I, 4 * H, 1)]
        d_inp = [(B, 4 * H, I, T)] if self.stepwise_input else [(B * T, 4 * H, I, 1)]
        return [
            *inp,
            (B, H, 4 * H, T),  # recurrent, forward
            *d_inp,  # d input
            (I, B * T, 4 * H, 1),  # d W_ih
            (B, 4 * H, H, T),  # d h
            (H, B * T, 4 * H, 1),  # d W_hh
        ]

    def flops(self) -> float:
        return sum(2.0 * m * k * n * c for m, k, n, c in self.products())


def mm_seconds(m: int, k: int, n: int, cache: dict, min_time: float = 0.2) -> float:
    """Median seconds of one torch.mm at [m, k] x [k, n] (float32)."""
    if (m, k, n) in cache:
        return cache[m, k, n]
    a, b = torch.randn(m, k), torch.randn(k, n)
    out = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=out)
    times: list[float] = []
    spent = 0.0
    while spent < min_time or len(times) < 5:
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    cache[m, k, n] = statistics.median(times)
    return cache[m, k, n]


def roofline(layers: list[Layer], cache: dict) -> tuple[float, float]:
    """(LSTM FLOPs, ideal seconds) of ``layers`` as back-to-back torch.mm calls."""
    flops = sum(layer.flops() for layer in layers)
    seconds = sum(mm_seconds(m, k, n, cache) * c for layer in layers for m, k, n, c in layer.products())
    return flops, seconds


def time_steps(model: nn.Module, batches: list[Any], clip: float | None) -> float:
    """Median seconds of a full training step (loss, backward, clip, Adam) over ``batches``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    times = []
    for i, batch in enumerate(batches):
        t0 = time.perf_counter()
        loss, _ = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if i > 0:  # the first step pays one-off costs
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------
# seqlab's models
# ---------------------------------------------------------------------------------------------


def lm_case(config: str, steps: int) -> dict[str, Any]:
    from seqlab.config import load_config
    from seqlab.data.batching.bptt import BPTTBatcher
    from seqlab.models.factory import build_model

    cfg = load_config(REPO / config)
    vocab, m, d = 10_000, cfg.model, cfg.data
    torch.manual_seed(0)
    model = build_model(cfg, vocab)
    stream = torch.randint(0, vocab, (d.batch_size * d.bptt * (steps + 2),))
    batches = list(BPTTBatcher(stream, d.batch_size, d.bptt))[: steps + 1]
    layers = [Layer(d.batch_size, d.bptt, m.embedding_size if i == 0 else m.hidden_size, m.hidden_size)
              for i in range(m.num_layers)]  # fmt: skip
    return {
        "name": f"LM {Path(config).stem} ({m.num_layers}x{m.hidden_size}, batch {d.batch_size}x{d.bptt})",
        "layers": layers,
        "seconds": time_steps(model, batches, cfg.training.clip_grad_norm),
        "tokens": d.batch_size * d.bptt,
    }


def s2s_pairs(limit: int) -> tuple[list[Any], str]:
    from seqlab.data.batching.seq2seq import EncodedPair

    if (PEERS_DATA / "train.en").is_file():
        ids = {}
        for lang in ("en", "ja"):
            words = (PEERS_DATA / f"vocab.{lang}").read_text(encoding="utf-8").split("\n")
            ids[lang] = {w: i + 4 for i, w in enumerate(w for w in words if w)}
        src = (PEERS_DATA / "train.en").read_text(encoding="utf-8").splitlines()[:limit]
        tgt = (PEERS_DATA / "train.ja").read_text(encoding="utf-8").splitlines()[:limit]
        pairs = [
            EncodedPair([ids["en"][w] for w in s.split()], [ids["ja"][w] for w in t.split()])
            for s, t in zip(src, tgt)
        ]
        return pairs, f"peers data ({PEERS_DATA})"
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(5, 31, (limit, 2), generator=g).tolist()
    pairs = [EncodedPair(torch.randint(4, 2000, (a,), generator=g).tolist(),
                         torch.randint(4, 2000, (b,), generator=g).tolist()) for a, b in lengths]  # fmt: skip
    return pairs, "synthetic 5-30-token pairs (run bench/peers/data.py for the real ones)"


def peers_model(input_feeding: bool = True, vocab: int = 2000) -> nn.Module:
    """The peers benchmark's Seq2SeqModel (emb 256, biLSTM 2x256, 2-layer decoder 512, Luong
    general, linear bridge, no dropout), random weights from seed 0, in training mode."""
    from seqlab.config import ModelConfig
    from seqlab.models.seq2seq import Seq2SeqModel

    model_cfg = ModelConfig(
        cell="lstm", embedding_size=256, hidden_size=256, bidirectional=True, encoder_layers=2,
        decoder_layers=2, decoder_hidden_size=512, attention="luong", attention_score="general",
        input_feeding=input_feeding, bridge="linear", dropout=0.0,
    )  # fmt: skip
    torch.manual_seed(0)
    return Seq2SeqModel(model_cfg, vocab, vocab)


def s2s_case(input_feeding: bool, steps: int) -> dict[str, Any]:
    from seqlab.data.batching.seq2seq import Seq2SeqLoader

    model = peers_model(input_feeding)
    pairs, source = s2s_pairs(2000)
    loader = Seq2SeqLoader(pairs, 816, shuffle=True, seed=0)  # the peers benchmark's budget
    batches = [b for _, b in zip(range(steps + 1), loader)]
    layers: list[Layer] = []
    for batch in batches[1:]:
        B, S = batch.src.shape
        T = batch.tgt_in.shape[1]
        enc = [Layer(B, S, 256 if i == 0 else 512, 256) for i in range(2) for _ in range(2)]
        dec_in = 256 + 512 if input_feeding else 256
        dec = [Layer(B, T, dec_in if i == 0 else 512, 512, stepwise_input=(i == 0 and input_feeding))
               for i in range(2)]  # fmt: skip
        layers += enc + dec
    seconds = time_steps(model, batches, 1.0)
    n = len(batches) - 1
    return {
        "name": f"Seq2Seq peers arch, input feeding {'on' if input_feeding else 'off'} ({source})",
        "layers": layers,
        "per_step_divisor": n,  # layers hold n steps' worth of work
        "seconds": seconds,
        "tokens": sum(b.num_tokens for b in batches[1:]) / n,
    }


# ---------------------------------------------------------------------------------------------
# Fused nn.LSTM against an LSTMCell loop
# ---------------------------------------------------------------------------------------------


def fused_vs_cell(B: int, T: int, I: int, H: int, repeats: int) -> dict[str, float]:  # noqa: E741
    x = torch.randn(T, B, I)
    fused, cell = nn.LSTM(I, H), nn.LSTMCell(I, H)
    flops = Layer(B, T, I, H).flops()

    def run_fused() -> None:
        out, _ = fused(x)
        out.sum().backward()

    def run_cell() -> None:
        h = c = torch.zeros(B, H)
        outs = []
        for t in range(T):
            h, c = cell(x[t], (h, c))
            outs.append(h)
        torch.stack(outs).sum().backward()

    result = {}
    for name, fn in (("fused_nn_lstm", run_fused), ("lstmcell_loop", run_cell)):
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        result[name] = flops / statistics.median(times) / 1e9
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=6, help="timed training steps per model (median)")
    p.add_argument("--lm-config", default="configs/ptb_word_medium.yaml")
    p.add_argument("--out", default=None, help="also write JSON here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    machine = f"{cpu_line()}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    print(f"machine: {machine}", flush=True)
    cache: dict = {}
    rows = []
    cases = [lm_case(args.lm_config, args.steps), s2s_case(True, args.steps), s2s_case(False, args.steps)]
    for case in cases:
        flops, ideal = roofline(case["layers"], cache)
        n = case.get("per_step_divisor", 1)
        flops, ideal = flops / n, ideal / n
        roof, achieved = flops / ideal / 1e9, flops / case["seconds"] / 1e9
        rows.append({
            "model": case["name"], "lstm_gflop_per_step": flops / 1e9, "step_s": case["seconds"],
            "ideal_lstm_s": ideal, "roofline_gflops": roof, "achieved_lstm_gflops": achieved,
            "fraction": achieved / roof, "target_tokens_per_step": case["tokens"],
            "tokens_per_s": case["tokens"] / case["seconds"],
        })  # fmt: skip
        print(f"   {case['name']}: step {case['seconds'] * 1e3:.0f} ms", flush=True)
    comparison = {f"B{b} T{t} I{i} H{h}": fused_vs_cell(b, t, i, h, 5)
                  for b, t, i, h in ((64, 13, 512, 512), (20, 35, 650, 650))}  # fmt: skip
    print(f"\n{'model':78s} | LSTM GFLOP/step | step ms | mm roofline GFLOP/s | achieved | fraction")
    for r in rows:
        print(f"{r['model']:78s} | {r['lstm_gflop_per_step']:15.2f} | {r['step_s'] * 1e3:7.0f} | "
              f"{r['roofline_gflops']:19.1f} | {r['achieved_lstm_gflops']:8.1f} | "
              f"{r['fraction']:8.2f}")  # fmt: skip
    print("\nfused nn.LSTM vs LSTMCell loop, forward + backward, GFLOP/s of the LSTM FLOPs:")
    for shape, r in comparison.items():
        print(f"   {shape}: fused {r['fused_nn_lstm']:.1f}, LSTMCell loop {r['lstmcell_loop']:.1f} "
              f"({r['fused_nn_lstm'] / r['lstmcell_loop']:.2f}x)")  # fmt: skip
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"machine": machine, "rows": rows, "fused_vs_cell": comparison},
                                             indent=2) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
