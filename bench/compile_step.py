"""``torch.compile`` of the decoder's inference step on CPU: does it help, and is it exact?

The peers benchmark's model (2,000-word vocabularies, embeddings 256, bidirectional 2-layer encoder
of 256 per direction, 2-layer LSTM decoder of 512, Luong ``general`` attention with input feeding;
random weights, eval mode, no gradients) takes one batch of ``--batch`` random sources of
``--source-length`` tokens. Rows, alternating within each repeat:

- ``eager``: ``model.decode_step`` as search calls it;
- ``compiled``: ``torch.compile(model.decode_step, dynamic=False)`` (inductor, C++ kernels on CPU),
  compiled once before timing (the compile time is printed separately).

Each row times ``--steps`` consecutive steps fed with the eager row's tokens, so both compute the
same thing; the table gives the median ms per step, the speed-up, the compile time and the largest
difference of the logits. Search shrinks the batch as sentences end, so a real decode would compile
once per batch size (or use dynamic shapes); the fixed batch here is the compiled step's best case.

    .venv/bin/python bench/compile_step.py --threads 1
    .venv/bin/python bench/compile_step.py --threads 2 --repeats 9 --out runs/bench/compile_step.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqlab.config import ModelConfig  # noqa: E402
from seqlab.models.seq2seq import Seq2SeqModel  # noqa: E402


def run_steps(step, model, memory, tokens: list[torch.Tensor]) -> tuple[float, list[torch.Tensor]]:  # noqa: ANN001
    """Milliseconds per step (median) and the logits of ``len(tokens)`` steps from the start state."""
    state = model.start_state(memory)
    times, logits = [], []
    for tok in tokens:
        t0 = time.perf_counter()
        out, state, _ = step(tok, state, memory)
        times.append((time.perf_counter() - t0) * 1000)
        logits.append(out)
    return statistics.median(times), logits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--source-length", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--vocab", type=int, default=2000)
    parser.add_argument("--embedding", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = ModelConfig(
        cell="lstm", embedding_size=args.embedding, hidden_size=args.hidden // 2, bidirectional=True,
        encoder_layers=2, decoder_layers=2, decoder_hidden_size=args.hidden, attention="luong",
        attention_score="general", input_feeding=True, bridge="linear", dropout=0.0,
    )  # fmt: skip
    model = Seq2SeqModel(cfg, args.vocab, args.vocab).eval()
    src = torch.randint(4, args.vocab, (args.batch, args.source_length))
    lengths = torch.full((args.batch,), args.source_length)
    tokens = [torch.randint(4, args.vocab, (args.batch,)) for _ in range(args.steps)]
    with torch.no_grad():
        memory = model.encode(src, lengths)
        start = time.perf_counter()
        compiled = torch.compile(model.decode_step, dynamic=False)
        run_steps(compiled, model, memory, tokens[:2])
        compile_s = time.perf_counter() - start
        rows = {"eager": model.decode_step, "compiled": compiled}
        times: dict[str, list[float]] = {name: [] for name in rows}
        outputs: dict[str, list[torch.Tensor]] = {}
        for repeat in range(args.repeats + 1):  # repeat 0 warms up
            for name in rows if repeat % 2 == 0 else reversed(rows):
                ms, outputs[name] = run_steps(rows[name], model, memory, tokens)
                if repeat:
                    times[name].append(ms)
    diff = max(float((a - b).abs().max()) for a, b in zip(outputs["eager"], outputs["compiled"], strict=True))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"decoder inference step (peers architecture, input feeding): batch {args.batch}, source "
        f"{args.source_length}, {args.steps} steps, {args.threads} thread(s), torch {torch.__version__}, "
        f"median of {args.repeats}; compile {compile_s:.1f} s; max |difference| of the logits {diff:.2e}"
    )
    print(f"{'row':<10} {'ms/step':>9} {'speed-up':>9}")
    for name, value in medians.items():
        print(f"{name:<10} {value:9.3f} {medians['eager'] / value:8.2f}x")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"args": {k: str(v) for k, v in vars(args).items()}, "median_ms": medians,
                   "compile_s": compile_s, "max_diff": diff}  # fmt: skip
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
