"""Each speed change of issue 6 against its baseline, on the peers benchmark's model, in one run.

The model of ``bench/peers`` (2,000-word vocabularies, embeddings 256, bidirectional 2-layer
encoder of 256 per direction, 2-layer LSTM decoder of 512, Luong ``general`` attention with input
feeding, no dropout; random weights, seed 0), the peers training pairs when ``bench/peers`` has
written them (else synthetic 5-30-token pairs), batches of ``max_tokens`` 816. Rows, each with its
baseline alternating within every repeat:

- **stacked weight gradients** (:mod:`seqlab.models.step_products`): target tokens/s of full
  training steps (loss, backward, clip 1.0, Adam), each decoder layer's weight gradient made once
  over all steps against autograd's one product per step;
- **fused Adam** (:func:`seqlab.training.optim.build_optimizer`): ms of one ``optimizer.step()``
  over the model's parameters, torch's fused kernel against its per-tensor loop;
- **token-gate table** (:class:`seqlab.models.decoder.Decoder`): ms of one inference
  ``decode_step`` at 64 rows (greedy) and 320 rows (beam 5 x 64), the embedding's share of the
  gates looked up in a ``[V, 4H]`` table against one ``[B, 256] x [256, 2048]`` product per step;
- **greedy refill** (:mod:`seqlab.decoding.refill`), when ``bench/peers/run.py`` has left its
  trained seqlab model: greedy sentences/s of ``translate`` over the 1,000 peers dev sentences,
  batches of 64, rows refilled as sentences end against one batch at a time (the difference column
  compares the outputs' scores).

Medians over ``--repeats``; ratio = baseline time / changed time; the last column is the largest
difference between the two (gradients, parameters after the step, logits).

    .venv/bin/python bench/speed_changes.py --threads 2
    .venv/bin/python bench/speed_changes.py --threads 1 --repeats 5 --out runs/bench/speed_changes.json
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from lstm_roofline import peers_model, s2s_pairs  # noqa: E402

import seqlab.models.decoder as decoder_module  # noqa: E402
from seqlab.config import OptimizerConfig  # noqa: E402
from seqlab.data.batching.seq2seq import Seq2SeqLoader  # noqa: E402
from seqlab.models.lstm_steps import LSTMSteps  # noqa: E402
from seqlab.training.optim import build_optimizer  # noqa: E402

TABLE_LIMIT = decoder_module.TOKEN_TABLE_MAX_ELEMENTS


def training_tok_s(batches: list[Any], stack: bool) -> tuple[float, list[torch.Tensor]]:
    """Target tokens/s of full training steps (after one warm-up step) and the first step's gradients."""
    decoder_module.LSTMSteps = functools.partial(LSTMSteps, stack_weight_grads=stack)  # type: ignore[misc]
    try:
        model = peers_model().train()
        optimizer = build_optimizer(model.parameters(), OptimizerConfig(name="adam", lr=1e-3))
        seconds, tokens, first = 0.0, 0.0, []
        for i, batch in enumerate(batches):
            start = time.perf_counter()
            loss, stats = model.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if i == 0:
                first = [p.grad.clone() for p in model.parameters() if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if i:
                seconds += time.perf_counter() - start
                tokens += stats["tokens"]
        return tokens / seconds, first
    finally:
        decoder_module.LSTMSteps = LSTMSteps  # type: ignore[misc]


def adam_ms(fused: bool, steps: int = 10) -> tuple[float, list[torch.Tensor]]:
    model = peers_model()
    params = list(model.parameters())
    generator = torch.Generator().manual_seed(1)
    for p in params:
        p.grad = torch.randn(p.shape, generator=generator) * 1e-2
    optimizer = torch.optim.Adam(params, lr=1e-3, fused=fused)
    optimizer.step()  # warm-up (state allocation)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        optimizer.step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), [p.detach().clone() for p in params]


def decode_ms(model: Any, rows: int, table: bool, steps: int = 20) -> tuple[float, torch.Tensor]:
    """ms per inference decode_step at ``rows`` rows (sources of 16 tokens), and the last logits."""
    decoder_module.TOKEN_TABLE_MAX_ELEMENTS = TABLE_LIMIT if table else 0
    model.decoder._stepper_cache = None
    try:
        generator = torch.Generator().manual_seed(2)
        src = torch.randint(4, 2000, (rows, 16), generator=generator)
        tokens = [torch.randint(4, 2000, (rows,), generator=generator) for _ in range(steps + 1)]
        with torch.no_grad():
            memory = model.encode(src, torch.full((rows,), 16))
            state = model.start_state(memory)
            logits, state, _ = model.decode_step(tokens[0], state, memory)  # builds the cache
            times = []
            for tok in tokens[1:]:
                start = time.perf_counter()
                logits, state, _ = model.decode_step(tok, state, memory)
                times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times), logits
    finally:
        decoder_module.TOKEN_TABLE_MAX_ELEMENTS = TABLE_LIMIT
        model.decoder._stepper_cache = None


PEERS_RUN = HERE / "peers" / "work" / "quality" / "seqlab" / "run"
PEERS_DEV = HERE / "peers" / "work" / "data" / "dev.en"


def greedy_sent_s(predictor: Any, sources: list[str], refill: bool) -> tuple[float, list[torch.Tensor]]:
    """Greedy sentences/s of ``translate`` (batches of 64) with or without refilling rows, and the
    outputs' scores (identical outputs give a zero difference)."""
    import seqlab.decoding.batched as glue

    original = glue.refills
    if not refill:
        glue.refills = lambda opts: False  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        out = predictor.translate(
            sources, beam_size=1, batch_size=64, max_length=60, length_penalty="none", replace_unk=False
        )
        seconds = time.perf_counter() - start
    finally:
        glue.refills = original  # type: ignore[assignment]
    return len(sources) / seconds, [torch.tensor([t.score for t in out])]


def max_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batches", type=int, default=8, help="training steps per measurement (+1 warm-up)")
    p.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    pairs, source = s2s_pairs(4000)
    loader = Seq2SeqLoader(pairs, 816, shuffle=True, seed=0)
    batches = [b for _, b in zip(range(args.batches + 1), loader)]
    decode_model = peers_model().eval()
    # name -> (unit, higher is better, baseline fn, changed fn); each fn returns (value, tensors)
    cases = {
        "stacked weight gradients (train tok/s)": (
            lambda: training_tok_s(batches, False), lambda: training_tok_s(batches, True), True),
        "fused Adam (ms per step)": (lambda: adam_ms(False), lambda: adam_ms(True), False),
        "token-gate table, 64 rows (ms per step)": (
            lambda: decode_ms(decode_model, 64, False), lambda: decode_ms(decode_model, 64, True), False),
        "token-gate table, 320 rows (ms per step)": (
            lambda: decode_ms(decode_model, 320, False), lambda: decode_ms(decode_model, 320, True), False),
    }  # fmt: skip
    if (PEERS_RUN / "config.yaml").is_file() and PEERS_DEV.is_file():  # a trained model ends sentences
        import seqlab

        predictor = seqlab.load(PEERS_RUN)
        dev = PEERS_DEV.read_text(encoding="utf-8").splitlines()
        cases["greedy refill, peers dev set (sent/s)"] = (
            lambda: greedy_sent_s(predictor, dev, False),
            lambda: greedy_sent_s(predictor, dev, True),
            True,
        )
    else:
        print(f"(no trained peers run at {PEERS_RUN}: the greedy refill row needs bench/peers/run.py first)")
    results = {}
    for name, (baseline, changed, higher_better) in cases.items():
        values: dict[str, list[float]] = {"baseline": [], "changed": []}
        tensors: dict[str, Any] = {}
        for repeat in range(args.repeats):
            order = [("baseline", baseline), ("changed", changed)]
            for label, fn in order if repeat % 2 == 0 else reversed(order):
                value, out = fn()
                values[label].append(value)
                tensors[label] = out if isinstance(out, list) else [out]
        base, new = statistics.median(values["baseline"]), statistics.median(values["changed"])
        ratio = new / base if higher_better else base / new
        results[name] = {"baseline": base, "changed": new, "speed_up": ratio,
                         "max_diff": max_diff(tensors["baseline"], tensors["changed"])}  # fmt: skip
    print(
        f"speed changes on the peers model ({source}); {args.threads} thread(s), torch {torch.__version__}, "
        f"median of {args.repeats}"
    )
    print(f"{'change':<42} {'baseline':>9} {'changed':>9} {'speed-up':>9} {'max |diff|':>11}")
    for name, row in results.items():
        print(
            f"{name:<42} {row['baseline']:9.1f} {row['changed']:9.1f} {row['speed_up']:8.2f}x "
            f"{row['max_diff']:11.2e}"
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"threads": args.threads, "repeats": args.repeats, "data": source, "results": results}
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
