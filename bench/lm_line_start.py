"""A stream-trained LM read line by line: perplexity from zeros vs from an estimated line-start state.

A word LM trained with truncated BPTT carries its state across ``<eos>`` from line to line; every
consumer (generate, predict_next, score, encode, lm_sep) reads a line on its own as ``<eos> line``
from a ZERO state, which training almost never showed the model. This script measures on the
validation text of a trained run (``--run-dir``):

stream (trainer)
    ``LanguageModelPredictor.perplexity``: the validation file read as one stream the way the
    Trainer validates (``eval_batch_size`` rows, BPTT windows, carried state). Its own token count.
stream (exact)
    the same stream read as one row, ``<eos>`` first, so that it predicts exactly the tokens the
    line-by-line figures predict (every line's tokens and its ``<eos>``); the reference for ratios.
line-by-line (START)
    every line scored on its own: ``<eos> line`` read from START, predicting ``line <eos>``; summed
    NLL over summed tokens. START is one of: ``zeros`` (what consumers do today); ``mean``, the mean
    training-stream state before an ``<eos>``; ``primer``, the real state after a stretch of training
    text; ``fitted``, ``mean`` fitted by gradient descent on training lines (model frozen);
    ``oracle`` (diagnostic, not a fix), a state fitted on the measured validation lines themselves:
    the best any constant start state could do, so the gap left is context, not the start state.
line-by-line (K previous lines)
    diagnostic: each line read after only its K previous lines (from ``fitted``, else ``mean``): how
    much of the stream's advantage K lines of context already give (``--context-lines``).

It also prints the mean NLL by position in the line (0 = the first token after ``<eos>``) for the
stream and for the line-by-line starts: where the gap sits. With ``--save METHOD`` it writes that
start state as ``line_start.safetensors`` into the run directory.

Run from the repository root (one thread: another job shares the machine)::

    OMP_NUM_THREADS=1 .venv/bin/python bench/lm_line_start.py --run-dir runs/ptb_small_stream
    OMP_NUM_THREADS=1 .venv/bin/python bench/lm_line_start.py --run-dir runs/x --max-lines 500 --save fitted
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from machine_info import cpu_line  # noqa: E402

from seqlab.api import LanguageModelPredictor  # noqa: E402
from seqlab.data.batching.bptt import BPTTBatcher  # noqa: E402
from seqlab.data.catalogue.lookup import resolve_split  # noqa: E402
from seqlab.data.corpora.lm import encode_lines  # noqa: E402
from seqlab.data.readers.lines import read_lines  # noqa: E402
from seqlab.models.line_start import (  # noqa: E402
    METHODS,
    estimate_line_start,
    expand_state,
    fit_start_state,
    line_end_states,
    line_token_nll,
    mean_state,
    perplexity,
    save_line_start,
    split_lines,
    zero_state,
)
from seqlab.models.state import RecurrentState  # noqa: E402

POSITION_BINS = ((0, 1), (1, 2), (2, 3), (3, 5), (5, 10), (10, 20), (20, 10_000))


def split_path(cfg, split: str, override: str | None) -> Path:
    """The run's training or validation file (catalogue dataset or data.train / data.valid)."""
    if override:
        return Path(override)
    if cfg.data.dataset is not None:
        return resolve_split(cfg.data.dataset, split)
    path = cfg.data.train if split == "train" else cfg.data.valid
    if path is None:
        raise SystemExit(f"the run's config names no {split} file: pass --{split} FILE")
    return Path(path)


@torch.no_grad()
def stream_token_nll(model, lines: list[torch.Tensor], eos_id: int, start: RecurrentState, chunk: int = 2000):
    """The lines read as ONE stream, one row, ``<eos>`` first, from ``start``: the NLL of every line's
    tokens and its ``<eos>`` (one FloatTensor[n_i + 1] per line, the same targets as line by line)."""
    body = torch.cat([torch.cat([line, torch.tensor([eos_id])]) for line in lines])
    inputs = torch.cat([torch.tensor([eos_id]), body[:-1]])
    state, parts = start, []
    for first in range(0, inputs.numel(), chunk):
        logits, state = model(inputs[first : first + chunk].unsqueeze(0), state)
        parts.append(
            torch.nn.functional.cross_entropy(
                logits[0].float(), body[first : first + chunk], reduction="none"
            )
        )
    flat = torch.cat(parts)
    out, at = [], 0
    for line in lines:
        out.append(flat[at : at + len(line) + 1])
        at += len(line) + 1
    return out


@torch.no_grad()
def trainer_rows_ppl(model, ids: torch.Tensor, rows: int, bptt: int, start: RecurrentState) -> dict:
    """The stream as the Trainer validates it (``rows`` streams, BPTT windows, carried state) but every
    row starting from ``start`` instead of zeros: what validation reads if ``init_state`` returns it."""
    batcher = BPTTBatcher(ids, max(1, min(rows, (len(ids) - 1) // 2)), bptt)
    state, nll, tokens = expand_state(start, batcher.streams.shape[0]), 0.0, 0
    for batch in batcher:
        logits, state = model(batch.inputs, state)
        nll += float(
            torch.nn.functional.cross_entropy(
                logits.flatten(0, 1).float(), batch.targets.flatten(), reduction="sum"
            )
        )
        tokens += batch.targets.numel()
    return {"nll_sum": nll, "tokens": tokens, "ppl": perplexity(nll, tokens)}


@torch.no_grad()
def context_token_nll(model, lines: list[torch.Tensor], eos_id: int, start: RecurrentState, k: int):
    """Each line read after only its ``k`` previous lines: ``<eos> l[i-k] ... <eos> l[i-1] <eos> l[i]``
    from ``start``; the NLL of ``l[i] <eos>`` (fewer context lines near the start). Right-padded."""
    out = []
    eos = torch.tensor([eos_id])
    empty = torch.zeros(0, dtype=torch.long)
    batch = max(8, 64 // (k + 1))
    for first in range(0, len(lines), batch):
        seqs, offsets = [], []
        for i in range(first, min(first + batch, len(lines))):
            context = torch.cat([empty] + [torch.cat([eos, lines[j]]) for j in range(max(0, i - k), i)])
            seqs.append(torch.cat([context, eos, lines[i], eos]))
            offsets.append(len(context))
        steps = max(len(seq) for seq in seqs) - 1
        inputs = torch.full((len(seqs), steps), eos_id, dtype=torch.long)
        for r, seq in enumerate(seqs):
            inputs[r, : len(seq) - 1] = seq[:-1]
        logits, _ = model(inputs, expand_state(start, len(seqs)))
        for r, (seq, off) in enumerate(zip(seqs, offsets)):
            targets = seq[off + 1 :]  # l[i] <eos>, predicted at input positions off .. len(seq) - 2
            picked = logits[r, off : len(seq) - 1].float()
            out.append(torch.nn.functional.cross_entropy(picked, targets, reduction="none"))
    return out


def summary(per_line: list[torch.Tensor]) -> dict:
    nll = float(sum(float(t.double().sum()) for t in per_line))
    tokens = sum(t.numel() for t in per_line)
    positions = {}
    for lo, hi in POSITION_BINS:
        vals = [t[lo:hi] for t in per_line if t.numel() > lo]
        vals = torch.cat(vals) if vals else torch.zeros(0)
        positions[f"{lo}-{hi - 1}" if hi - lo > 1 else str(lo)] = (
            {"nll": float(vals.double().mean()), "tokens": int(vals.numel())} if vals.numel() else None
        )
    return {"nll_sum": nll, "tokens": tokens, "ppl": perplexity(nll, tokens), "by_position": positions}


def machine_line() -> str:
    threads = torch.get_num_threads()
    return (
        f"CPU {cpu_line()} ({os.cpu_count()} logical cores), torch {torch.__version__}, {threads} thread(s)"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--run-dir", required=True, help="a trained language-model run directory")
    p.add_argument(
        "--max-lines", type=int, default=None, help="measure the first N validation lines (default all)"
    )
    p.add_argument("--train", default=None, help="training text (default: the run's own)")
    p.add_argument("--valid", default=None, help="validation text (default: the run's own)")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--max-train-tokens", type=int, default=100_000, help="training tokens read for 'mean'")
    p.add_argument("--primer-tokens", type=int, default=200)
    p.add_argument("--fit-steps", type=int, default=200)
    p.add_argument("--fit-lines", type=int, default=4000)
    p.add_argument("--fit-lr", type=float, default=0.05)
    p.add_argument("--no-oracle", action="store_true", help="skip the state fitted on the validation lines")
    p.add_argument(
        "--context-lines",
        type=int,
        nargs="*",
        default=[1, 2, 4],
        help="diagnostic: score each line after only its K previous lines (read from the fitted start)",
    )
    p.add_argument(
        "--save", choices=list(METHODS), default=None, help="write this start state into the run dir"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(REPO / "bench" / "results" / "lm_line_start.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    started = time.monotonic()
    predictor = LanguageModelPredictor(args.run_dir)
    model, vocab, cfg = predictor.model, predictor.vocab, predictor.config
    eos = vocab.eos_id
    valid_text = read_lines(split_path(cfg, "valid", args.valid))
    if args.max_lines:
        valid_text = valid_text[: args.max_lines]
    valid_ids = encode_lines(valid_text, predictor.tokenizer, vocab, add_eos=True)
    lines = split_lines(valid_ids, eos)
    train_ids = encode_lines(
        read_lines(split_path(cfg, "train", args.train)), predictor.tokenizer, vocab, True
    )
    print(machine_line())
    print(
        f"run {args.run_dir}: {len(lines)} validation lines, {len(valid_ids)} tokens; "
        f"training stream {len(train_ids)} tokens"
    )

    timings: dict[str, float] = {}
    rows: dict[str, dict] = {}

    t = time.monotonic()
    try:
        trainer_stream = predictor.perplexity(valid_text)
    except Exception as exc:  # the predictor is being reworked; the own loop measures the same thing
        print(f"LanguageModelPredictor.perplexity failed ({exc!r}); using this script's own loop")
        trainer_stream = trainer_rows_ppl(
            model, valid_ids, cfg.data.eval_batch_size, cfg.data.bptt, zero_state(model)
        )
    timings["stream_trainer"] = time.monotonic() - t
    t = time.monotonic()
    rows["stream (exact, zeros)"] = summary(stream_token_nll(model, lines, eos, zero_state(model)))
    timings["stream_exact"] = time.monotonic() - t
    reference = rows["stream (exact, zeros)"]

    starts: dict[str, RecurrentState] = {"zeros": zero_state(model)}
    t = time.monotonic()
    ends = line_end_states(model, train_ids, eos, rows=64, max_tokens=args.max_train_tokens)
    starts_mean = mean_state(ends)
    timings["estimate_mean"] = time.monotonic() - t
    if "mean" in args.methods or "fitted" in args.methods:
        starts["mean"] = starts_mean
    if "primer" in args.methods:
        t = time.monotonic()
        starts["primer"] = estimate_line_start(
            model, train_ids, eos, "primer", primer_tokens=args.primer_tokens
        )
        timings["estimate_primer"] = time.monotonic() - t
    if "fitted" in args.methods:
        t = time.monotonic()
        starts["fitted"] = estimate_line_start(
            model,
            train_ids,
            eos,
            "fitted",
            max_tokens=args.max_train_tokens,
            rows=64,
            fit_lines=args.fit_lines,
            fit_steps=args.fit_steps,
            fit_lr=args.fit_lr,
        )
        timings["estimate_fitted"] = time.monotonic() - t
    if not args.no_oracle:
        t = time.monotonic()
        starts["oracle (fitted on these valid lines)"] = fit_start_state(
            model,
            [line for line in lines if len(line)],
            eos,
            starts_mean,
            steps=args.fit_steps,
            lr=args.fit_lr,
        )
        timings["estimate_oracle"] = time.monotonic() - t
    for name, state in starts.items():
        t = time.monotonic()
        rows[f"line-by-line ({name})"] = summary(line_token_nll(model, lines, eos, state))
        timings[f"score_{name}"] = time.monotonic() - t
    best = starts.get("fitted", starts_mean)
    for k in args.context_lines:
        t = time.monotonic()
        rows[f"line-by-line ({k} previous line(s), then the line)"] = summary(
            context_token_nll(model, lines, eos, best, k)
        )
        timings[f"score_context_{k}"] = time.monotonic() - t
    # the stream itself from the chosen start state: the fix must leave it no worse
    chosen = args.save or ("fitted" if "fitted" in starts else "mean")
    if chosen in starts:
        rows[f"stream (exact, {chosen} start)"] = summary(stream_token_nll(model, lines, eos, starts[chosen]))
    trainer_rows = {
        name: trainer_rows_ppl(model, valid_ids, cfg.data.eval_batch_size, cfg.data.bptt, starts[name])
        for name in ("zeros", chosen)
        if name in starts
    }

    # -- table ---------------------------------------------------------------------------------
    print(
        f"\nstream (trainer's validation, {cfg.data.eval_batch_size} rows x bptt {cfg.data.bptt}): "
        f"ppl {trainer_stream['ppl']:.2f}"
    )
    for name, fig in trainer_rows.items():
        print(f"  same, own loop, rows starting from {name}: ppl {fig['ppl']:.3f} ({fig['tokens']} tokens)")
    print(f"{'figure':52s} {'tokens':>7s} {'ppl':>9s} {'/exact':>7s} {'/trainer':>8s}")
    for name, row in rows.items():
        row["ratio_to_stream"] = row["ppl"] / reference["ppl"]
        row["ratio_to_trainer_stream"] = row["ppl"] / trainer_stream["ppl"]
        print(
            f"{name:52s} {row['tokens']:7d} {row['ppl']:9.2f} {row['ratio_to_stream']:7.3f} "
            f"{row['ratio_to_trainer_stream']:8.3f}"
        )
    bins = list(reference["by_position"])
    print("\nmean NLL (nats) by position in the line (0 = first token after <eos>)")
    print(f"{'figure':52s} " + " ".join(f"{b:>7s}" for b in bins))
    for name, row in rows.items():
        cells = [row["by_position"][b] for b in bins]
        print(f"{name:52s} " + " ".join(f"{c['nll']:7.3f}" if c else "      -" for c in cells))
    print(
        "tokens per bin: "
        + ", ".join(
            f"{b}: {reference['by_position'][b]['tokens']}" for b in bins if reference["by_position"][b]
        )
    )

    if args.save:
        if args.save not in starts:
            raise SystemExit(f"--save {args.save}: not among the measured methods {args.methods}")
        path = save_line_start(
            args.run_dir,
            starts[args.save],
            {
                "method": args.save,
                "train_tokens": len(train_ids),
                "max_train_tokens": args.max_train_tokens,
                "fit_steps": args.fit_steps,
                "fit_lines": args.fit_lines,
                "fit_lr": args.fit_lr,
            },
        )
        print(f"\nwrote {path} ({args.save})")
    timings["total"] = time.monotonic() - started
    print("\nwall seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    result = {
        "run_dir": str(args.run_dir),
        "machine": machine_line(),
        "valid_lines": len(lines),
        "valid_tokens": int(len(valid_ids)),
        "train_tokens": int(len(train_ids)),
        "stream_trainer": trainer_stream,
        "stream_trainer_rows": trainer_rows,
        "figures": rows,
        "timings_s": timings,
        "settings": {k: v for k, v in vars(args).items()},
        "boundary_states_used_for_mean": int(ends.h.shape[1]),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
