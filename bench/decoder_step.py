"""The decoder's step path: ``LSTMSteps`` against calling ``nn.LSTM`` on one position per step.

A teacher-forced input-feeding loop at issue 6's decoder shapes (batch ``--batch``, target length
``--steps``, embeddings 256, a 2-layer LSTM of 512 whose first layer reads ``[embedding; feed]``,
the feed being ``tanh`` of the previous output), forward and backward, the same weights and inputs
in every row:

- ``nn.LSTM per step`` (the baseline, seqlab's step before 2026-11-28): the module called on a
  length-1 sequence at every position;
- ``LSTMSteps, per-step dW`` (seqlab's step path before the stacked weight gradients): one
  ``addmm`` per layer and step, the embedding's share of the gates computed for every position in
  one product ahead of the loop (:mod:`seqlab.models.lstm_steps`), autograd's weight gradient for
  every step;
- ``LSTMSteps``: the same, with each layer's weight gradient made once, as one product over all
  steps (:mod:`seqlab.models.step_products`).

Rows alternate within each repeat; the table gives medians (ms per loop) and the speed-up against the
first row; the outputs and the weight gradients of the first and last rows are checked to agree (max
absolute difference printed).

    .venv/bin/python bench/decoder_step.py --threads 1
    .venv/bin/python bench/decoder_step.py --threads 2 --repeats 9 --out runs/bench/decoder_step.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqlab.models.lstm_steps import LSTMSteps  # noqa: E402


def module_loop(lstm: nn.LSTM, embedded: Tensor, hidden: int) -> Tensor:
    batch, steps, _ = embedded.shape
    layers = lstm.num_layers
    h = c = embedded.new_zeros(layers, batch, hidden)
    feed = embedded.new_zeros(batch, hidden)
    outputs = []
    for t in range(steps):
        out, (h, c) = lstm(torch.cat([embedded[:, t], feed], dim=1).unsqueeze(1), (h, c))
        feed = torch.tanh(out[:, 0])
        outputs.append(feed)
    return torch.stack(outputs, dim=1)


def steps_loop(lstm: nn.LSTM, embedded: Tensor, hidden: int, stack_weight_grads: bool = True) -> Tensor:
    batch, steps, size = embedded.shape
    layers = lstm.num_layers
    h = c = embedded.new_zeros(layers, batch, hidden)
    feed = embedded.new_zeros(batch, hidden)
    stepper = LSTMSteps(lstm, size, lstm.training, stack_weight_grads=stack_weight_grads)
    gates = stepper.project_tokens(embedded).unbind(1)
    outputs = []
    for t in range(steps):
        out, h, c = stepper.step(gates[t], feed, h, c)
        feed = torch.tanh(out)
        outputs.append(feed)
    return torch.stack(outputs, dim=1)


def time_once(loop: Callable[..., Tensor], lstm: nn.LSTM, embedded: Tensor, hidden: int) -> float:
    lstm.zero_grad(set_to_none=True)
    start = time.perf_counter()
    loop(lstm, embedded, hidden).sum().backward()
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--embedding", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lstm = nn.LSTM(args.embedding + args.hidden, args.hidden, args.layers, batch_first=True)
    embedded = torch.randn(args.batch, args.steps, args.embedding)
    rows = {
        "nn.LSTM per step": module_loop,
        "LSTMSteps, per-step dW": partial(steps_loop, stack_weight_grads=False),
        "LSTMSteps": steps_loop,
    }
    with torch.no_grad():
        diff = (
            (module_loop(lstm, embedded, args.hidden) - steps_loop(lstm, embedded, args.hidden)).abs().max()
        )
    grads = {}
    for name in ("nn.LSTM per step", "LSTMSteps"):
        lstm.zero_grad(set_to_none=True)
        rows[name](lstm, embedded, args.hidden).square().sum().backward()
        grads[name] = [p.grad.clone() for p in lstm.parameters()]
    grad_diff = max(
        float((a - b).abs().max()) for a, b in zip(grads["nn.LSTM per step"], grads["LSTMSteps"], strict=True)
    )
    times: dict[str, list[float]] = {name: [] for name in rows}
    for repeat in range(args.repeats + 1):  # repeat 0 warms up
        order = list(rows) if repeat % 2 == 0 else list(reversed(rows))
        for name in order:
            elapsed = time_once(rows[name], lstm, embedded, args.hidden)
            if repeat:
                times[name].append(elapsed)
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["nn.LSTM per step"]
    print(
        f"decoder step loop, forward + backward: batch {args.batch}, {args.steps} steps, embedding "
        f"{args.embedding}, {args.layers}x{args.hidden} LSTM with input feeding, {args.threads} thread(s), "
        f"median of {args.repeats}; max |difference| of the outputs {float(diff):.2e}, of the weight "
        f"gradients {grad_diff:.2e}"
    )
    print(f"{'row':<24} {'ms':>9} {'speed-up':>9}")
    for name, value in medians.items():
        print(f"{name:<24} {value:9.1f} {base / value:8.2f}x")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "args": {k: str(v) for k, v in vars(args).items()},
            "median_ms": medians,
            "max_diff": float(diff),
            "max_grad_diff": grad_diff,
        }
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
