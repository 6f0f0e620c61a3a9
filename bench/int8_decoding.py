"""int8 decoding against float32: sentences/s and quality of a trained Seq2Seq run, in one process.

Loads the run twice, ``seqlab.load(run)`` (float32) and ``seqlab.load(run, int8=True)``, and decodes
the run's validation pairs (or ``--data``: a catalogue ``NAME:SPLIT`` or a pair file in the run's
format) with each, for every beam width of ``--beams`` (1 = greedy, refilling batches; default
``5 1``), through ``translate()`` in the run's batch size. Each distinct source is decoded once, as
``seqlab evaluate`` does. Timed: one ``translate()`` call over all the sources (no loading, no
scoring); rows alternate their order from one repeat to the next and the table gives the median
over ``--repeats``, the int8 / float32 ratio, the quality of each row (BLEU, WER, PER: the same
scores as ``seqlab evaluate``, against the closest reference), the int8 minus float32 difference,
and the share of sources whose int8 output equals the float32 one.

``--parts`` adds rows with only some products in int8 (names of
``seqlab.models.quantize.INT8_PARTS``, each row one part; ``all`` is the full int8 row), to see
what each part is worth on this machine. ``--unbatched N`` decodes the first N sources one at a time
with int8 and counts how many equal the batched int8 output (they must all).

Threads: ``--threads`` (default 1) and ``OMP_NUM_THREADS``. The machine line records the load
average: on a shared machine the absolute speeds move with it, the ratios much less.

    .venv/bin/python bench/int8_decoding.py runs/demo/contenders/s2s_luong
    .venv/bin/python bench/int8_decoding.py RUN --data multi30k_en_de:test --beams 5 1 --repeats 5
    .venv/bin/python bench/int8_decoding.py RUN --parts steps output combine --limit 2000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from machine_info import cpu_line, git_commit, load_average

import seqlab
from seqlab.cli.seq2seq import _evaluation_pairs
from seqlab.metrics.references import group_references, score_outputs
from seqlab.models.quantize import INT8_PARTS, quantize_seq2seq

RESULTS = Path(__file__).resolve().parent / "results"
SCORES = ("bleu", "wer", "per")


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_line(),
        "logical_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "quantized_engine": torch.backends.quantized.engine,
        "load_average_1_5_15": load_average(),
        "commit": git_commit(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def build_rows(run: str, parts: list[str]) -> dict[str, Any]:
    """The predictors to compare, by row name: float32, int8 (all parts) and one row per part."""
    rows = {"float32": seqlab.load(run), "int8": seqlab.load(run, int8=True)}
    for part in parts:
        predictor = seqlab.load(run)
        quantize_seq2seq(predictor.model, parts=(part,))
        rows[f"int8 {part} only"] = predictor
    return rows


def quality(predictor: Any, outputs: list[Any], references: list[list[str]]) -> dict[str, float]:
    ref_tokens = [[predictor.pipeline.target_tokens(r) for r in refs] for refs in references]
    texts, tokens = [o.text for o in outputs], [o.tokens for o in outputs]
    summary, _, _ = score_outputs(texts, tokens, references, ref_tokens, SCORES)
    return {name: summary[name] for name in SCORES}


def measure(rows: dict[str, Any], sources: list[str], beam: int, repeats: int) -> dict[str, Any]:
    """Median seconds of one translate() over ``sources`` per row, and each row's outputs."""
    seconds: dict[str, list[float]] = {name: [] for name in rows}
    outputs: dict[str, list[Any]] = {}
    names = list(rows)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            outputs[name] = rows[name].translate(sources, beam_size=beam)
            seconds[name].append(time.perf_counter() - start)
    return {"seconds": {n: statistics.median(s) for n, s in seconds.items()}, "outputs": outputs}


def unbatched_equal(predictor: Any, sources: list[str], batched: list[Any], beam: int) -> int:
    return sum(
        predictor.translate(text, beam_size=beam)[0].text == out.text
        for text, out in zip(sources, batched, strict=False)
    )


def beam_table(rows: dict[str, Any], sources: list[str], refs: list[list[str]], beam: int, args) -> dict:  # noqa: ANN001
    found = measure(rows, sources, beam, args.repeats)
    base_s, base_out = found["seconds"]["float32"], found["outputs"]["float32"]
    base_q = quality(rows["float32"], base_out, refs)
    table = {}
    for name, predictor in rows.items():
        outs = found["outputs"][name]
        q = quality(predictor, outs, refs)
        table[name] = {
            "sentences_per_s": len(sources) / found["seconds"][name],
            "ratio": base_s / found["seconds"][name],
            **q,
            **{f"{k}_delta": q[k] - base_q[k] for k in SCORES},
            "same_output_share": sum(a.text == b.text for a, b in zip(outs, base_out)) / len(sources),
        }
    if args.unbatched:
        count = min(args.unbatched, len(sources))
        same = unbatched_equal(rows["int8"], sources[:count], found["outputs"]["int8"], beam)
        table["int8"]["unbatched_equal"] = f"{same}/{count}"
    return table


def print_table(beam: int, table: dict[str, dict]) -> None:
    label = "greedy" if beam == 1 else f"beam {beam}"
    print(f"\n{label}")
    head = f"{'row':<22} {'sent/s':>8} {'x fp32':>7} {'BLEU':>7} {'WER %':>7} {'PER %':>7}"
    print(head + f" {'dBLEU':>7} {'dWER':>7} {'same':>6}")
    for name, r in table.items():
        same = 100 * r["same_output_share"]
        print(
            f"{name:<22} {r['sentences_per_s']:8.1f} {r['ratio']:7.2f} {r['bleu']:7.2f} {r['wer']:7.2f} "
            f"{r['per']:7.2f} {r['bleu_delta']:+7.2f} {r['wer_delta']:+7.2f} {same:5.1f}%"
            + (f"  unbatched = batched: {r['unbatched_equal']}" if "unbatched_equal" in r else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a trained Seq2Seq LSTM run directory")
    parser.add_argument("--data", help="catalogue NAME:SPLIT or a pair file (default: the run's validation)")
    parser.add_argument("--beams", type=int, nargs="+", default=[5, 1])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, help="only the first N distinct sources")
    parser.add_argument("--parts", nargs="*", default=[], choices=INT8_PARTS, help="one int8 row per part")
    parser.add_argument("--unbatched", type=int, default=50, help="int8 sources also decoded alone")
    parser.add_argument("--out", help="JSON file (default bench/results/int8_decoding_<run name>.json)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = build_rows(args.run, args.parts)
    pairs, label = _evaluation_pairs(rows["float32"].config, args.data, None)
    grouped = group_references(pairs)
    sources = list(grouped)[: args.limit]
    refs = [grouped[s] for s in sources]
    info = machine()
    print(
        f"machine: {info['cpu']} ({info['logical_cores']} logical cores), torch {info['torch']} "
        f"({info['quantized_engine']}), {info['torch_threads']} thread(s), load average "
        f"{' '.join(map(str, info['load_average_1_5_15']))} at start (a shared machine: ratios hold, "
        f"absolute speeds move with the load); commit {info['commit']}, {info['date']}"
    )
    print(f"run {args.run}: {label}, {len(sources)} distinct sources, median of {args.repeats} repeats")
    tables = {}
    for beam in args.beams:
        tables[str(beam)] = beam_table(rows, sources, refs, beam, args)
        print_table(beam, tables[str(beam)])
    info["load_average_1_5_15_end"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.out) if args.out else RESULTS / f"int8_decoding_{Path(args.run).name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": info, "run": str(args.run), "data": label, "sources": len(sources),
               "repeats": args.repeats, "beams": tables}  # fmt: skip
    out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
