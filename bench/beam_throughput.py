"""Decoding throughput: sentences/s of greedy and beam search, batched against one sentence at a time.

The model is a random-weight ``Seq2SeqModel`` of issue 6's architecture: word-level, 2,000-id source
and target vocabularies, embeddings 256, a bidirectional 2-layer LSTM encoder with 256 per direction,
a 2-layer LSTM decoder of 512, Luong ``general`` attention with input feeding, no dropout. The input
is ``--sentences`` random sources of 5-30 tokens (seeded), decoded in batches of ``--batch-size``
sentences sorted by length (the order of the output is restored), as a translation CLI would.

Four rows, measured in the same process and alternating their order from one repeat to the next:

- ``greedy`` / ``beam-K``, *batched*: ``seqlab.decoding.greedy_search`` / ``beam_search`` over whole
  batches (all sentences x beams in one ``decode_step`` per step; finished sentences leave the batch);
- *unbatched*: the same function on one sentence at a time (the baseline), over the first
  ``--unbatched-sentences`` sources (it is slow; sentences/s is comparable across rows).

Each timing covers ``model.encode``, ``model.start_state`` and the search (the model in eval mode,
under ``torch.no_grad``), not the data generation. The table quotes medians over ``--repeats`` and
the batched / unbatched ratio, and checks that the batched outputs equal the unbatched ones on the
shared sentences (the same tokens). Output lengths are bounded by ``--max-length-ratio`` x the source
length: with random weights almost every hypothesis runs to that bound, so the mean output length is
printed too. Nothing is downloaded.

Run from the repository root::

    .venv/bin/python bench/beam_throughput.py                        # CPU, 2 threads, ~3 min
    .venv/bin/python bench/beam_throughput.py --sentences 200 --unbatched-sentences 40 --repeats 1
    .venv/bin/python bench/beam_throughput.py --device cuda --out runs/bench/beam_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from machine_info import cpu_line

from seqlab.config import ModelConfig
from seqlab.decoding import Hypothesis, LengthPenalty, beam_search, greedy_search, length_limits
from seqlab.models.seq2seq import Seq2SeqModel

VOCAB = 2000


def machine_line(device: torch.device) -> str:
    parts = [
        f"CPU {cpu_line()} ({os.cpu_count()} logical cores)",
        f"torch threads {torch.get_num_threads()}",
        f"torch {torch.__version__}",
        f"device {device}",
    ]
    if device.type == "cuda":
        parts.append(f"GPU {torch.cuda.get_device_name(device)}")
    return "machine: " + ", ".join(parts)


def build_model(device: torch.device, seed: int) -> Seq2SeqModel:
    torch.manual_seed(seed)
    cfg = ModelConfig(
        embedding_size=256,
        hidden_size=256,
        bidirectional=True,
        num_layers=2,
        decoder_hidden_size=512,
        attention="luong",
        attention_score="general",
        input_feeding=True,
        dropout=0.0,
    )
    return Seq2SeqModel(cfg, VOCAB, VOCAB).to(device).eval()


def random_sources(count: int, seed: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(5, 31, (count,), generator=g).tolist()
    return [torch.randint(4, VOCAB, (n,), generator=g).tolist() for n in lengths]


def batches(sources: list[list[int]], batch_size: int) -> list[list[int]]:
    """Indices of the sources in length-sorted batches."""
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


Search = Callable[..., list[Any]]


def decode(
    model: Seq2SeqModel,
    sources: list[list[int]],
    groups: list[list[int]],
    search: Search,
    args: argparse.Namespace,
    device: torch.device,
) -> tuple[float, list[list[int]]]:
    """Decode every group; -> (seconds, best tokens per source in input order)."""
    outputs: list[list[int]] = [[] for _ in sources]
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    with torch.no_grad():
        for group in groups:
            lengths = torch.tensor([len(sources[i]) for i in group])
            src = torch.zeros(len(group), int(lengths.max()), dtype=torch.long)
            for row, i in enumerate(group):
                src[row, : len(sources[i])] = torch.tensor(sources[i])
            src, lengths = src.to(device), lengths.to(device)
            max_lengths, min_lengths = length_limits(
                lengths, max_length=args.max_length, max_length_ratio=args.max_length_ratio
            )
            memory = model.encode(src, lengths)
            results = search(
                model,
                memory,
                model.start_state(memory),
                max_lengths=max_lengths,
                min_lengths=min_lengths,
                bos_id=model.bos_id,
                eos_id=model.eos_id,
            )
            for i, result in zip(group, results, strict=True):
                best: Hypothesis = result[0] if isinstance(result, list) else result
                outputs[i] = best.tokens
    sync()
    return time.perf_counter() - start, outputs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=1000, help="sources decoded batched (default 1000)")
    parser.add_argument(
        "--unbatched-sentences", type=int, default=100, help="the baseline's share (default 100)"
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument(
        "--alpha", type=float, default=0.6, help="GNMT length penalty of the beam (default 0.6)"
    )
    parser.add_argument("--max-length", type=int, default=200)
    parser.add_argument("--max-length-ratio", type=float, default=1.5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the figures as JSON here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model = build_model(device, args.seed)
    sources = random_sources(args.sentences, args.seed + 1)
    shared = min(args.unbatched_sentences, len(sources))
    penalty = LengthPenalty("gnmt", args.alpha)

    def beam(model: Any, memory: Any, state: Any, **kw: Any) -> list[list[Hypothesis]]:
        return beam_search(model, memory, state, beam_size=args.beam_size, length_penalty=penalty, **kw)

    beam_name = f"beam-{args.beam_size}"
    rows = {  # name -> (search, sources, groups)
        ("greedy", "batched"): (greedy_search, sources, batches(sources, args.batch_size)),
        ("greedy", "unbatched"): (greedy_search, sources[:shared], [[i] for i in range(shared)]),
        (beam_name, "batched"): (beam, sources, batches(sources, args.batch_size)),
        (beam_name, "unbatched"): (beam, sources[:shared], [[i] for i in range(shared)]),
    }
    print(machine_line(device))
    print(
        f"model: issue-6 architecture, random weights, vocab {VOCAB}; {len(sources)} sources of 5-30 tokens, "
        f"batch {args.batch_size}, max length min({args.max_length}, ceil({args.max_length_ratio} x source))"
    )
    # One untimed pass over a few batches (allocator, kernel selection).
    for search, srcs, groups in rows.values():
        decode(model, srcs, groups[:2], search, args, device)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in rows}
    outputs: dict[tuple[str, str], list[list[int]]] = {}
    keys = list(rows)
    for repeat in range(args.repeats):
        for key in keys if repeat % 2 == 0 else reversed(keys):
            search, srcs, groups = rows[key]
            seconds, outputs[key] = decode(model, srcs, groups, search, args, device)
            times[key].append(len(srcs) / seconds)
            print(
                f"  repeat {repeat + 1}: {key[0]:>8} {key[1]:>9} {times[key][-1]:8.1f} sentences/s",
                flush=True,
            )

    report: dict[str, Any] = {"machine": machine_line(device), "args": vars(args), "rows": []}
    print()
    header = (
        f"{'search':>8} {'mode':>9} {'sentences/s':>12} {'x unbatched':>12} {'out tokens':>11} {'same':>9}"
    )
    print(header)
    print("-" * len(header))
    for name in ("greedy", beam_name):
        batched = statistics.median(times[(name, "batched")])
        alone = statistics.median(times[(name, "unbatched")])
        same = sum(
            a == b
            for a, b in zip(outputs[(name, "batched")][:shared], outputs[(name, "unbatched")], strict=True)
        )
        for mode, value in (("batched", batched), ("unbatched", alone)):
            produced = outputs[(name, mode)]
            mean_len = sum(len(o) for o in produced) / len(produced)
            ratio = f"{batched / alone:11.2f}x" if mode == "batched" else f"{'1.00x':>12}"
            same_text = f"{same}/{shared}" if mode == "batched" else ""
            print(f"{name:>8} {mode:>9} {value:12.1f} {ratio} {mean_len:11.1f} {same_text:>9}")
            report["rows"].append(
                {
                    "search": name,
                    "mode": mode,
                    "sentences_per_s": value,
                    "runs": times[(name, mode)],
                    "mean_output_tokens": mean_len,
                    "identical_to_unbatched": same if mode == "batched" else None,
                    "compared": shared,
                }
            )
    print(f"\nmedians over {args.repeats} repeats; 'same' = batched outputs identical to the unbatched ones")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
