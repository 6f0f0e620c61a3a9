"""Trainer overhead: training and evaluation tokens/s through seqlab against a bare PyTorch loop.

For every config (default: the PTB word small and medium recipes) this builds the corpus with
seqlab's own data code (``load_lm_corpus``, the BPTT batchers as ``seqlab.training.pipeline`` builds them)
and the model with ``seqlab.models.factory.build_model``, then measures, in the same process and
alternating which side goes first from one repeat to the next:

train
    *bare*: a plain PyTorch loop over a fresh copy of the model (the same initial weights): the
    optimizer of the config built directly (``torch.optim.Adam`` / ``SGD`` / ...), ``model(inputs,
    state)`` + ``F.cross_entropy`` with the hidden state carried and detached (``--bare loss``
    calls ``model.loss(batch)`` instead, so the model's own loss wrapper is excluded from the
    comparison), ``backward``, ``clip_grad_norm_`` (when the config clips), ``optimizer.step``,
    ``zero_grad``; autocast / GradScaler as the config's ``amp`` asks (CUDA only, as in seqlab).

    *seqlab*: the real ``Trainer(...).fit()`` on another fresh copy, with ``cfg.training`` replaced
    only where a benchmark must: ``max_steps = warmup + steps + 1``, ``validate_every`` and
    ``save_every`` null (so no validation or checkpoint falls inside the window; an epoch is far
    longer than the run), ``threads`` and ``device`` those of the benchmark, ``progress`` off
    unless ``--progress``. ``log_every`` stays the config's (the output says how many metrics lines
    fall in the window).

    How it is timed (the same for both sides): the training batcher is wrapped in a stand-in
    (:class:`TimedStream`) that reads the clock when it hands out batch ``warmup`` and again when it
    hands out batch ``warmup + steps`` (after ``torch.cuda.synchronize()`` on CUDA). The window
    thus holds exactly ``steps`` full iterations of each loop, everything that happens per step:
    batch slicing, forward, backward, clipping, the update, and on the seqlab side whatever the
    Trainer adds (the LossModule call, the loss and grad-norm ``float()`` syncs, the schedule, the
    log window, the progress bar when on, a metrics line every ``log_every``). Not in the window:
    model copies, Trainer construction and ``_start`` (run-dir checks, seeding), and what ``fit``
    does after the last step (final validation on one batch, ``last/`` and ``best/`` checkpoints).
    tokens/s = tokens in the window / window seconds; the table quotes the median over repeats.
    Before the repeats each side trains 2 untimed steps once (one-off allocator / kernel costs).

eval
    *bare*: ``model.eval()``, ``torch.no_grad()``, the first ``--eval-batches`` validation batches
    through ``model(inputs, state)`` with the state carried, summed cross-entropy kept on device.
    *seqlab*: ``Trainer.validate()`` (``seqlab.training.evaluate.evaluate``) over the same batch
    list: whole call timed (RNG save/restore and mode switches included). Both perplexities are
    compared as a sanity check (same weights, same batches).

overhead % = bare tok/s / seqlab tok/s - 1 (the extra time per token the seqlab path costs), from
the medians. Goal (issue): <= 5 %.

Run from the repository root::

    .venv/bin/python bench/lm_throughput.py                      # both PTB configs, CPU
    .venv/bin/python bench/lm_throughput.py --threads 2 --out runs/bench/lm_throughput.json
    .venv/bin/python bench/lm_throughput.py --device cuda --steps 200 100 --eval-batches 200

Without the PTB files (``$SEQLAB_DATA`` / ``--data``) a synthetic corpus of uniform random ids with
PTB's vocabulary size stands in (the speed does not depend on the text), and the output says so.
Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from machine_info import cpu_line

from seqlab.config import ExperimentConfig, load_config
from seqlab.data.batching.bptt import BPTTBatcher, LMBatch
from seqlab.data.catalogue.lookup import cache_dir, data_root, get_dataset
from seqlab.data.corpora.lm import load_lm_corpus
from seqlab.models.factory import build_model
from seqlab.training.optim import build_optimizer
from seqlab.training.trainer import Trainer

DEFAULT_CONFIGS = ["configs/ptb_word_small.yaml", "configs/ptb_word_medium.yaml"]
SYNTHETIC_VOCAB = 10_000  # PTB (Mikolov) word vocabulary
SYNTHETIC_TRAIN_TOKENS = 929_589  # PTB train / valid sizes with <eos>
SYNTHETIC_VALID_TOKENS = 73_760
GOAL_PERCENT = 5.0


# ---------------------------------------------------------------------------------------------
# Machine and data
# ---------------------------------------------------------------------------------------------


def machine_line(device: torch.device) -> str:
    parts = [
        f"CPU {cpu_line()} ({os.cpu_count()} logical cores, {platform.machine()})",
        f"torch threads {torch.get_num_threads()}",
        f"torch {torch.__version__}",
        f"python {platform.python_version()}",
        f"device {device}",
    ]
    if device.type == "cuda":
        parts.append(f"GPU {torch.cuda.get_device_name(device)}")
    return "machine: " + ", ".join(parts)


@dataclass
class Corpus:
    train: torch.Tensor
    valid: torch.Tensor
    vocab_size: int
    source: str


def dataset_available(cfg: ExperimentConfig) -> bool:
    """Whether every file the config's data section names is already on disk (never downloads)."""
    data = cfg.data
    if data.dataset is None:
        return all(Path(p).is_file() for p in (data.train, data.valid) if p is not None)
    root = data_root()
    entry = get_dataset(data.dataset)
    for relative in entry.splits.values():
        places = ([root / relative] if root is not None else []) + [cache_dir() / "datasets" / relative]
        if not any(p.is_file() for p in places):
            return False
    return True


def load_corpus(cfg: ExperimentConfig, cache: dict[str, Corpus]) -> Corpus:
    """The config's corpus through seqlab's data code, or a synthetic stand-in when it is absent."""
    d = cfg.data
    key = repr((d.dataset, d.train, d.valid, d.valid_fraction, d.add_eos, d.tokenizer, d.vocab))
    if key in cache:
        return cache[key]
    if dataset_available(cfg):
        with tempfile.TemporaryDirectory(prefix="seqlab-bench-corpus-") as tmp:
            corpus = load_lm_corpus(d, tmp)
        name = d.dataset or d.train
        result = Corpus(corpus.train, corpus.valid, len(corpus.vocab), f"{name} (root {data_root()})")
    else:
        generator = torch.Generator().manual_seed(0)
        result = Corpus(
            torch.randint(0, SYNTHETIC_VOCAB, (SYNTHETIC_TRAIN_TOKENS,), generator=generator),
            torch.randint(0, SYNTHETIC_VOCAB, (SYNTHETIC_VALID_TOKENS,), generator=generator),
            SYNTHETIC_VOCAB,
            f"SYNTHETIC random ids, vocab {SYNTHETIC_VOCAB} ({d.dataset or d.train} not found under "
            f"data root {data_root()})",
        )
    cache[key] = result
    return result


def build_batchers(cfg: ExperimentConfig, corpus: Corpus) -> tuple[BPTTBatcher, BPTTBatcher]:
    """Training and validation streams exactly as ``training.pipeline.build_batchers`` (one process)."""
    d = cfg.data
    train = BPTTBatcher(corpus.train, d.batch_size, d.bptt, variable=d.variable_bptt, seed=cfg.training.seed)
    valid = BPTTBatcher(corpus.valid, d.eval_batch_size, d.bptt)
    return train, valid


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def make_sync(device: torch.device) -> Callable[[], None]:
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


class TimedStream:
    """Stands in for the training BPTTBatcher; reads the clock when handing out batches
    ``start`` and ``stop`` (counted from the first batch this pass yields)."""

    def __init__(self, batcher: BPTTBatcher, start: int, stop: int, sync: Callable[[], None]) -> None:
        self.batcher, self.start, self.stop, self.sync = batcher, start, stop, sync
        self.stamps: list[float] = []  # at batches start..stop (synchronised at both ends)
        self.step_tokens: list[int] = []

    # the interface the Trainer uses
    def set_epoch(self, epoch: int) -> None:
        self.batcher.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.batcher)

    def state_dict(self) -> dict[str, Any]:
        return self.batcher.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.batcher.load_state_dict(state)

    def __iter__(self) -> Iterator[LMBatch]:
        for index, batch in enumerate(self.batcher):
            if self.start <= index <= self.stop:
                if index in (self.start, self.stop):
                    self.sync()
                self.stamps.append(time.perf_counter())
            if self.start <= index < self.stop:
                self.step_tokens.append(batch.num_tokens)
            yield batch

    def result(self) -> Measurement:
        if len(self.stamps) != self.stop - self.start + 1:
            raise RuntimeError(f"the loop stopped before batch {self.stop}: the window was not closed")
        steps = [t / max(b - a, 1e-12) for t, a, b in zip(self.step_tokens, self.stamps, self.stamps[1:])]
        return Measurement(self.stamps[-1] - self.stamps[0], sum(self.step_tokens), statistics.median(steps))


@dataclass
class Measurement:
    seconds: float
    tokens: int
    step_median_tok_s: float = math.nan  # median over steps of tokens / step time (CPU detail)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tok_s(self) -> float:
        return self.tokens / max(self.seconds, 1e-12)


def autocast_for(
    cfg: ExperimentConfig, device: torch.device
) -> tuple[Callable[[], AbstractContextManager], bool]:
    """(autocast context factory, use a GradScaler) for ``training.amp``; CUDA only, as seqlab does."""
    amp = cfg.training.amp
    if amp == "none" or device.type != "cuda":
        return nullcontext, False
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return (lambda: torch.autocast(device_type=device.type, dtype=dtype)), amp == "fp16"


def bare_optimizer(params: Any, cfg: ExperimentConfig) -> torch.optim.Optimizer:
    """The same torch optimizer the Trainer builds (construction is not part of the timed window)."""
    return build_optimizer(params, cfg.training.optimizer)


# ---------------------------------------------------------------------------------------------
# The two training loops
# ---------------------------------------------------------------------------------------------


def bare_train(
    model: torch.nn.Module, cfg: ExperimentConfig, stream: TimedStream, device: torch.device, via_loss: bool
) -> Measurement:
    model.to(device).train()
    optimizer = bare_optimizer(model.parameters(), cfg)
    autocast, use_scaler = autocast_for(cfg, device)
    scaler = torch.amp.GradScaler("cuda") if use_scaler else None
    clip = cfg.training.clip_grad_norm
    vocab = model.vocab_size
    torch.manual_seed(cfg.training.seed)
    state = None
    for index, batch in enumerate(stream):
        if index == stream.stop:
            break
        if via_loss:
            with autocast():
                loss, _ = model.loss(batch.to(device))
        else:
            inputs, targets = batch.inputs.to(device), batch.targets.to(device)
            if batch.reset:
                state = None
            with autocast():
                logits, state = model(inputs, state)
                loss = F.cross_entropy(logits.reshape(-1, vocab).float(), targets.reshape(-1))
            state = state.detach()
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return stream.result()


def seqlab_train(
    model: torch.nn.Module,
    cfg: ExperimentConfig,
    stream: TimedStream,
    valid_batches: list[LMBatch],
    device: torch.device,
    progress: bool,
) -> Measurement:
    steps = stream.stop + 1  # the Trainer must ask for batch ``stop`` to close the window
    tcfg = replace(
        cfg.training,
        max_steps=steps,
        max_minutes=None,
        validate_every=None,
        save_every=None,
        progress=progress,
        threads=torch.get_num_threads(),
        device=device.type,
        tensorboard=False,
    )
    with tempfile.TemporaryDirectory(prefix="seqlab-bench-run-") as tmp:
        trainer = Trainer(
            model, tcfg, stream, valid_batches, Path(tmp) / "run", device=device, total_steps=steps
        )
        summary = trainer.fit()
    if summary["stop_reason"] != "max_steps":
        raise RuntimeError(f"Trainer stopped for {summary['stop_reason']!r}, not max_steps")
    measurement = stream.result()
    measurement.extra["log_lines_in_window"] = sum(
        1 for s in range(stream.start + 1, stream.stop + 1) if s % tcfg.log_every == 0
    )
    return measurement


# ---------------------------------------------------------------------------------------------
# The two evaluation loops
# ---------------------------------------------------------------------------------------------


def bare_eval(
    model: torch.nn.Module, cfg: ExperimentConfig, batches: list[LMBatch], device: torch.device
) -> Measurement:
    model.to(device)
    autocast, _ = autocast_for(cfg, device)
    sync = make_sync(device)
    vocab = model.vocab_size
    was_training = model.training
    model.eval()
    sync()
    started = time.perf_counter()
    with torch.no_grad():
        state = None
        nll = torch.zeros((), device=device)
        tokens = 0
        for batch in batches:
            inputs, targets = batch.inputs.to(device), batch.targets.to(device)
            if batch.reset:
                state = None
            with autocast():
                logits, state = model(inputs, state)
            nll += F.cross_entropy(logits.reshape(-1, vocab).float(), targets.reshape(-1), reduction="sum")
            tokens += targets.numel()
        ppl = math.exp(float(nll) / tokens)
    sync()
    seconds = time.perf_counter() - started
    model.train(was_training)
    return Measurement(seconds, tokens, extra={"ppl": ppl})


def seqlab_eval(
    model: torch.nn.Module, cfg: ExperimentConfig, batches: list[LMBatch], device: torch.device
) -> Measurement:
    tcfg = replace(cfg.training, threads=torch.get_num_threads(), device=device.type, progress=False)
    with tempfile.TemporaryDirectory(prefix="seqlab-bench-eval-") as tmp:
        trainer = Trainer(model, tcfg, batches, batches, Path(tmp) / "run", device=device, total_steps=1)
        sync = make_sync(device)
        sync()
        started = time.perf_counter()
        metrics = trainer.validate()
        sync()
        seconds = time.perf_counter() - started
    tokens = sum(b.num_tokens for b in batches)
    return Measurement(seconds, tokens, extra={"ppl": metrics["ppl"]})


# ---------------------------------------------------------------------------------------------
# One config
# ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    config: str
    phase: str
    bare: list[Measurement]
    seqlab: list[Measurement]
    notes: list[str] = field(default_factory=list)

    @property
    def bare_tok_s(self) -> float:
        return statistics.median(m.tok_s for m in self.bare)

    @property
    def seqlab_tok_s(self) -> float:
        return statistics.median(m.tok_s for m in self.seqlab)

    @property
    def overhead_percent(self) -> float:
        return 100.0 * (self.bare_tok_s / self.seqlab_tok_s - 1.0)

    @property
    def step_overhead_percent(self) -> float:
        """The same from the per-step medians (pooled over repeats); nan for eval."""
        bare = [m.step_median_tok_s for m in self.bare]
        ours = [m.step_median_tok_s for m in self.seqlab]
        if any(math.isnan(v) for v in bare + ours):
            return math.nan
        return 100.0 * (statistics.median(bare) / statistics.median(ours) - 1.0)

    def to_dict(self) -> dict[str, Any]:
        def runs(ms: list[Measurement]) -> list[dict[str, Any]]:
            return [
                {
                    "seconds": m.seconds,
                    "tokens": m.tokens,
                    "tok_s": m.tok_s,
                    "step_median_tok_s": m.step_median_tok_s,
                }
                | m.extra
                for m in ms
            ]

        return {
            "config": self.config,
            "phase": self.phase,
            "bare_tok_s_median": self.bare_tok_s,
            "seqlab_tok_s_median": self.seqlab_tok_s,
            "seqlab_over_bare": self.seqlab_tok_s / self.bare_tok_s,
            "overhead_percent": self.overhead_percent,
            "step_median_overhead_percent": self.step_overhead_percent,
            "meets_goal": self.overhead_percent <= GOAL_PERCENT,
            "bare_runs": runs(self.bare),
            "seqlab_runs": runs(self.seqlab),
            "notes": self.notes,
        }


def bench_config(
    path: str, steps: int, eval_batches: int, args: argparse.Namespace, cache: dict
) -> list[Row]:
    cfg = load_config(path)
    device = args.device
    corpus = load_corpus(cfg, cache)
    probe_train, probe_valid = build_batchers(cfg, corpus)
    start, stop = args.warmup, args.warmup + steps
    if stop + 1 > len(probe_train):
        raise SystemExit(
            f"{path}: warmup + steps + 1 = {stop + 1} exceeds one epoch ({len(probe_train)} batches)"
        )
    eval_list = list(islice(probe_valid, eval_batches))
    torch.manual_seed(cfg.training.seed)
    pristine = build_model(cfg, corpus.vocab_size)
    n_params = pristine.num_parameters()
    name = Path(path).stem
    d = cfg.data
    print(
        f"\n== {path}: {cfg.model.cell} {cfg.model.num_layers}x{cfg.model.hidden_size}, "
        f"vocab {corpus.vocab_size}, {n_params / 1e6:.2f}M parameters; batch {d.batch_size}x{d.bptt} train, "
        f"{d.eval_batch_size}x{d.bptt} eval; "
        f"optimizer {cfg.training.optimizer.name}, clip {cfg.training.clip_grad_norm}, amp {cfg.training.amp}"
        f"{' (float32: CPU)' if cfg.training.amp != 'none' and device.type != 'cuda' else ''}",
        flush=True,
    )
    print(f"   data: {corpus.source}", flush=True)
    sync = make_sync(device)
    train_row = Row(name, "train", [], [])
    eval_row = Row(name, "eval", [], [])

    def run_train(side: str, first: int = start, last: int = stop) -> Measurement:
        train, _ = build_batchers(cfg, corpus)
        stream = TimedStream(train, first, last, sync)
        model = copy.deepcopy(pristine)
        if side == "bare":
            return bare_train(model, cfg, stream, device, args.bare == "loss")
        return seqlab_train(model, cfg, stream, eval_list[:1], device, args.progress)

    def run_eval(side: str, model: torch.nn.Module) -> Measurement:
        if side == "bare":
            return bare_eval(model, cfg, eval_list, device)
        return seqlab_eval(model, cfg, eval_list, device)

    eval_models = {side: copy.deepcopy(pristine).to(device) for side in ("bare", "seqlab")}
    # untimed warm-up of both paths (allocator, kernels, first optimizer step), so that the side
    # that goes first in repeat 1 pays no one-off costs
    for side in ("bare", "seqlab"):
        run_train(side, 0, 2)
    bare_eval(eval_models["bare"], cfg, eval_list[:2], device)
    for repeat in range(args.repeats):
        order = ("bare", "seqlab") if repeat % 2 == 0 else ("seqlab", "bare")
        for side in order:
            measurement = run_train(side)
            (train_row.bare if side == "bare" else train_row.seqlab).append(measurement)
            print(
                f"   repeat {repeat + 1}/{args.repeats} train {side:6s}: {measurement.tok_s:10.1f} tok/s "
                f"({steps} steps, {measurement.seconds:.2f} s)",
                flush=True,
            )
        for side in order:
            measurement = run_eval(side, eval_models[side])
            (eval_row.bare if side == "bare" else eval_row.seqlab).append(measurement)
            print(
                f"   repeat {repeat + 1}/{args.repeats} eval  {side:6s}: {measurement.tok_s:10.1f} tok/s "
                f"({len(eval_list)} batches, {measurement.seconds:.2f} s)",
                flush=True,
            )
    logs = train_row.seqlab[0].extra.get("log_lines_in_window", 0)
    train_row.notes.append(
        f"{steps} steps after {args.warmup} warm-up, log_every {cfg.training.log_every} "
        f"({logs} metrics line(s) in the window), progress bar {'on' if args.progress else 'off'}, "
        f"bare loop via {'model.loss' if args.bare == 'loss' else 'model(inputs) + cross_entropy'}"
    )
    bare_ppl, seqlab_ppl = eval_row.bare[0].extra["ppl"], eval_row.seqlab[0].extra["ppl"]
    agree = math.isclose(bare_ppl, seqlab_ppl, rel_tol=1e-3)
    eval_row.notes.append(
        f"{len(eval_list)} validation batches; ppl bare {bare_ppl:.3f} vs seqlab {seqlab_ppl:.3f} "
        f"({'agree' if agree else 'DISAGREE'})"
    )
    return [train_row, eval_row]


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def per_config(values: list[int], count: int) -> list[int]:
    """``values`` stretched to ``count`` entries (the last one repeats)."""
    return (values + [values[-1]] * count)[:count]


def print_table(rows: list[Row], repeats: int) -> None:
    headers = [
        "config",
        "phase",
        "bare tok/s",
        "seqlab tok/s",
        "seqlab/bare",
        "overhead %",
        f"<= {GOAL_PERCENT:g}%?",
        "per-step overhead %",
    ]
    body = [
        [
            r.config,
            r.phase,
            f"{r.bare_tok_s:.1f}",
            f"{r.seqlab_tok_s:.1f}",
            f"{r.seqlab_tok_s / r.bare_tok_s:.3f}",
            f"{r.overhead_percent:+.1f}",
            "yes" if r.overhead_percent <= GOAL_PERCENT else "NO",
            "-" if math.isnan(r.step_overhead_percent) else f"{r.step_overhead_percent:+.1f}",
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(headers)]
    print(
        f"\nmedians over {repeats} repeat(s) of whole-window tokens/s; "
        "overhead % = bare tok/s / seqlab tok/s - 1."
        "\nper-step overhead %: the same from the median single-step time (robust to noise from other"
        "\nprocesses, but blind to costs paid every N steps, e.g. metrics lines); the goal is judged on"
        "\nthe whole-window column."
    )
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("-+-".join("-" * w for w in widths))
    for line in body:
        print(" | ".join(c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))))
    for r in rows:
        for note in r.notes:
            print(f"  {r.config} {r.phase}: {note}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, help="recipes to measure")
    parser.add_argument(
        "--steps",
        nargs="+",
        type=int,
        default=[40, 12],
        help="timed training steps per repeat, one per config (the last repeats); default 40 12",
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed training steps before the window")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per side; the table quotes medians")
    parser.add_argument(
        "--eval-batches",
        nargs="+",
        type=int,
        default=[40, 10],
        help="validation batches per evaluation, one per config (the last repeats); default 40 10",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    parser.add_argument("--data", default=None, help="data root (default $SEQLAB_DATA or ../shared/data)")
    parser.add_argument(
        "--bare",
        choices=("forward", "loss"),
        default="forward",
        help="bare loop calls model(inputs) + cross_entropy (default) or model.loss(batch)",
    )
    parser.add_argument("--progress", action="store_true", help="keep the Trainer's tqdm bar on (stderr)")
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if min(args.steps) < 1 or min(args.eval_batches) < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error("--steps, --eval-batches and --repeats must be >= 1, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.data is not None:
        os.environ["SEQLAB_DATA"] = str(Path(args.data).resolve())
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    args.device = torch.device(args.device)
    if args.device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available")
    # seqlab warns once per Trainer that amp needs CUDA; the config header says so instead
    warnings.filterwarnings("ignore", message=r"training\.amp = .* needs CUDA")
    print(machine_line(args.device), flush=True)
    steps = per_config(args.steps, len(args.configs))
    eval_batches = per_config(args.eval_batches, len(args.configs))
    cache: dict[str, Corpus] = {}
    rows: list[Row] = []
    for path, n_steps, n_eval in zip(args.configs, steps, eval_batches):
        rows += bench_config(path, n_steps, n_eval, args, cache)
    print_table(rows, args.repeats)
    print(machine_line(args.device))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "machine": machine_line(args.device),
            "args": {k: (str(v) if isinstance(v, torch.device) else v) for k, v in vars(args).items()},
            "rows": [r.to_dict() for r in rows],
        }
        out.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
