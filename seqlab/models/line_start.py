"""The line-start state: where a stream-trained language model should begin reading a line.

A language model trained on a stream (truncated BPTT, ``<eos>`` between lines) almost never starts
from a zero state: at every ``<eos>`` it carries the state of the previous lines. Consumers that
read a line on its own (generate, predict_next, score, encode, the prompted ``lm_sep`` model) feed
``<eos>`` and then the line; from zeros, the first tokens of the line are read from a state the model
never saw. The fix is a constant state, estimated once after training from the training stream, put
where the zeros were (the state *before* the ``<eos>`` that opens the line):

``"mean"``
    the mean (h, c) over the training stream at the moment the next input is ``<eos>``, i.e. the
    average "end of a line" state (what the model carries into a line start in training).
``"primer"``
    the real state after reading a fixed stretch of training text up to a line end.
``"fitted"``
    starts at ``"mean"`` and is then fitted by gradient descent (the model frozen) to minimise the
    line-by-line NLL of a sample of training lines, each read as ``<eos> line`` from that state.

Every state is a :class:`RecurrentState` with ``h`` (and ``c`` for an LSTM) of shape
``[num_layers, 1, hidden_size]``; expand it over a batch with :func:`expand_state`. It is saved in a
run directory as ``line_start.safetensors`` (keys ``h`` and ``c``, string metadata such as the
method). This module uses only the model's public ``forward(inputs, state)``; it never imports
training or data code.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import Tensor, nn

from seqlab.errors import CheckpointError, ConfigError, DataError
from seqlab.models.state import RecurrentState
from seqlab.rundir.files import atomic_write_bytes
from seqlab.rundir.names import LINE_START_FILE

METHODS = ("mean", "primer", "fitted")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _model_dims(model: nn.Module) -> tuple[int, int, bool]:
    """(num_layers, hidden_size, has_cell_state) of a LanguageModel."""
    cfg = model.cfg  # type: ignore[attr-defined]
    return int(cfg.num_layers), int(cfg.hidden_size), cfg.cell == "lstm"


def zero_state(model: nn.Module) -> RecurrentState:
    """Zeros shaped like a line-start state: h (and c for an LSTM) [num_layers, 1, hidden_size]."""
    layers, hidden, has_c = _model_dims(model)
    weight = next(model.parameters())
    h = torch.zeros(layers, 1, hidden, dtype=weight.dtype, device=weight.device)
    return RecurrentState(h, torch.zeros_like(h) if has_c else None)


def expand_state(state: RecurrentState, batch_size: int) -> RecurrentState:
    """A [L, 1, H] state repeated over ``batch_size`` rows -> [L, batch_size, H] (contiguous copies)."""
    assert state.h.shape[1] == 1, f"expected a [L, 1, H] state, got {tuple(state.h.shape)}"
    h = state.h.expand(-1, batch_size, -1).contiguous()
    c = None if state.c is None else state.c.expand(-1, batch_size, -1).contiguous()
    return RecurrentState(h, c)


def split_lines(ids: Tensor, eos_id: int) -> list[Tensor]:
    """A stream LongTensor[N] of ``line <eos> line <eos> ...`` -> each line's ids without its ``<eos>``
    (LongTensor[n_i], possibly empty). Tokens after the last ``<eos>`` form no line and are dropped."""
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
    ends = (ids == eos_id).nonzero().flatten().tolist()
    lines, start = [], 0
    for end in ends:
        lines.append(ids[start:end])
        start = end + 1
    return lines


def _check_stream(ids: Tensor, eos_id: int) -> Tensor:
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
    if not bool((ids == eos_id).any()):
        raise DataError(f"the id stream ({ids.numel()} tokens) holds no <eos> (id {eos_id}): no line ends")
    return ids


# ---------------------------------------------------------------------------------------------
# Scoring lines on their own
# ---------------------------------------------------------------------------------------------


def _padded_line_batch(lines: Sequence[Tensor], eos_id: int, ignore: int = -100) -> tuple[Tensor, Tensor]:
    """Lines -> inputs LongTensor[B, T] = ``<eos> line`` (padded with ``<eos>``) and targets
    LongTensor[B, T] = ``line <eos>`` (padded with ``ignore``), T = longest line + 1."""
    steps = max(len(line) for line in lines) + 1
    inputs = torch.full((len(lines), steps), eos_id, dtype=torch.long)
    targets = torch.full((len(lines), steps), ignore, dtype=torch.long)
    for row, line in enumerate(lines):
        n = len(line)
        inputs[row, 1 : n + 1] = line
        targets[row, :n] = line
        targets[row, n] = eos_id
    return inputs, targets


def line_token_nll(
    model: nn.Module,
    lines: Sequence[Tensor],
    eos_id: int,
    start: RecurrentState | None = None,
    batch_size: int = 64,
) -> list[Tensor]:
    """Each line scored on its own: read ``<eos> line`` from ``start`` (a [L, 1, H] state; zeros when
    None), predict ``line <eos>``. Returns one FloatTensor[n_i + 1] per line: the NLL (nats) of every
    predicted token, in order (the last is the line's ``<eos>``). Lines are batched by length; right
    padding changes no real position of a left-to-right model. Runs under no_grad in eval mode."""
    if batch_size < 1:
        raise ConfigError(f"batch_size = {batch_size}: must be >= 1")
    start = zero_state(model) if start is None else start
    device = next(model.parameters()).device
    start = start.to(device)
    order = sorted(range(len(lines)), key=lambda i: len(lines[i]))
    out: list[Tensor | None] = [None] * len(lines)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for first in range(0, len(order), batch_size):
                chunk = order[first : first + batch_size]
                inputs, targets = _padded_line_batch([lines[i] for i in chunk], eos_id)
                inputs, targets = inputs.to(device), targets.to(device)
                logits, _ = model(inputs, expand_state(start, len(chunk)))
                nll = F.cross_entropy(
                    logits.float().transpose(1, 2), targets, reduction="none", ignore_index=-100
                )  # [B, T]
                for row, index in enumerate(chunk):
                    out[index] = nll[row, : len(lines[index]) + 1].cpu()
    finally:
        model.train(was_training)
    return out  # type: ignore[return-value]


def line_nll(
    model: nn.Module,
    lines: Sequence[Tensor],
    eos_id: int,
    start: RecurrentState | None = None,
    batch_size: int = 64,
) -> tuple[float, int]:
    """(summed NLL in nats, number of predicted tokens) of ``lines`` each read on its own from
    ``start`` (see :func:`line_token_nll`); tokens = sum of (len(line) + 1)."""
    per_line = line_token_nll(model, lines, eos_id, start, batch_size)
    return float(sum(float(t.double().sum()) for t in per_line)), sum(t.numel() for t in per_line)


# ---------------------------------------------------------------------------------------------
# Estimating the start state
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def line_end_states(
    model: nn.Module, ids: Tensor, eos_id: int, rows: int = 64, max_tokens: int | None = 100_000
) -> RecurrentState:
    """The states the model carries into each line start of the stream ``ids`` LongTensor[N].

    The first ``max_tokens`` tokens (all when None) are cut into ``rows`` contiguous streams, read
    step by step from zeros with the carried state (as in training); after each token whose next
    token is ``<eos>`` the state is kept, except before a row's first ``<eos>`` (still near zeros).
    Returns a RecurrentState with h (and c) of shape [num_layers, K, hidden] for the K kept states.
    """
    ids = _check_stream(ids, eos_id)
    if max_tokens is not None:
        ids = ids[:max_tokens]
    rows = max(1, min(rows, ids.numel() // 2))
    length = ids.numel() // rows
    streams = ids[: rows * length].view(rows, length)
    device = next(model.parameters()).device
    streams = streams.to(device)
    layers, hidden, has_c = _model_dims(model)
    state = expand_state(zero_state(model), rows)
    seen_eos = torch.zeros(rows, dtype=torch.bool, device=device)
    kept_h: list[Tensor] = []
    kept_c: list[Tensor] = []
    was_training = model.training
    model.eval()
    try:
        for t in range(length - 1):
            _, state = model(streams[:, t : t + 1], state)
            keep = (streams[:, t + 1] == eos_id) & seen_eos
            if bool(keep.any()):
                kept_h.append(state.h[:, keep])
                if has_c:
                    kept_c.append(state.c[:, keep])  # type: ignore[index]
            seen_eos |= streams[:, t] == eos_id
    finally:
        model.train(was_training)
    if not kept_h:
        raise DataError(
            f"no line end found past each row's first line in {rows * length} tokens over {rows} rows: "
            "give a longer stream or fewer rows"
        )
    h = torch.cat(kept_h, dim=1)
    return RecurrentState(h, torch.cat(kept_c, dim=1) if has_c else None)


def mean_state(states: RecurrentState) -> RecurrentState:
    """[L, K, H] states -> their mean over the K rows, [L, 1, H]."""
    h = states.h.mean(dim=1, keepdim=True)
    return RecurrentState(h, None if states.c is None else states.c.mean(dim=1, keepdim=True))


@torch.no_grad()
def primer_state(model: nn.Module, ids: Tensor, eos_id: int, primer_tokens: int = 200) -> RecurrentState:
    """The real state after reading the stream ``ids`` LongTensor[N] from zeros up to (not including)
    the first ``<eos>`` at or past position ``primer_tokens``: a line end, [L, 1, H]."""
    ids = _check_stream(ids, eos_id)
    ends = (ids == eos_id).nonzero().flatten()
    later = ends[ends >= max(primer_tokens, 1)]
    end = int(later[0]) if later.numel() else int(ends[-1])
    if end == 0:
        return zero_state(model)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        _, state = model(ids[:end].unsqueeze(0).to(device), zero_state(model))
    finally:
        model.train(was_training)
    return state.detach()


def fit_start_state(
    model: nn.Module,
    lines: Sequence[Tensor],
    eos_id: int,
    init: RecurrentState | None = None,
    steps: int = 200,
    batch_size: int = 64,
    lr: float = 0.05,
    seed: int = 0,
) -> RecurrentState:
    """Fit a [L, 1, H] start state to ``lines`` (LongTensor[n_i] each, training text): Adam on the mean
    per-token NLL of batches of lines read as ``<eos> line`` from the state, the model frozen (its
    parameters get no gradient and are not changed). Starts from ``init`` (zeros when None). Each
    step takes one batch of ``batch_size`` lines of similar length (sorted, then cut), the batches
    visited in an order shuffled by a generator seeded with ``seed`` (never the global RNG). The
    loss is the batch's summed NLL over the mean tokens per batch (so every token weighs the same,
    as in the corpus perplexity), the learning rate decays to 0 on a cosine."""
    if steps < 0 or batch_size < 1 or lr <= 0:
        raise ConfigError(f"steps = {steps}, batch_size = {batch_size}, lr = {lr}: need >= 0, >= 1, > 0")
    usable = [line for line in lines if len(line) > 0]
    if not usable:
        raise DataError("fit_start_state: no non-empty lines to fit on")
    init = zero_state(model) if init is None else init
    device = next(model.parameters()).device
    h = init.h.detach().clone().to(device).requires_grad_(True)
    c = None if init.c is None else init.c.detach().clone().to(device).requires_grad_(True)
    params = [h] if c is None else [h, c]
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: 0.5 * (1 + math.cos(math.pi * i / max(steps, 1)))
    )
    rng = random.Random(f"seqlab-line-start:{seed}")
    # batches of lines of similar length (little padding), visited in a seeded random order
    by_length = sorted(usable, key=len)
    batches = [by_length[i : i + batch_size] for i in range(0, len(by_length), batch_size)]
    order: list[int] = []
    # every token weighs the same whatever its batch: NLL summed, over the mean tokens per batch
    tokens_per_batch = sum(len(line) + 1 for line in usable) / len(batches)
    with _frozen(model):
        for _ in range(steps):
            if not order:
                order = list(range(len(batches)))
                rng.shuffle(order)
            batch = batches[order.pop()]
            inputs, targets = _padded_line_batch(batch, eos_id)
            inputs, targets = inputs.to(device), targets.to(device)
            logits, _ = model(inputs, expand_state(RecurrentState(h, c), len(batch)))
            nll = F.cross_entropy(logits.float().transpose(1, 2), targets, ignore_index=-100, reduction="sum")
            loss = nll / tokens_per_batch
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    return RecurrentState(h.detach(), None if c is None else c.detach())


@contextlib.contextmanager
def _frozen(model: nn.Module) -> Iterator[None]:
    """``model`` in eval mode with no parameter requiring a gradient; both restored on exit."""
    was_training = model.training
    flags = [p.requires_grad for p in model.parameters()]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)
        model.train(was_training)


def estimate_line_start(
    model: nn.Module,
    ids: Tensor,
    eos_id: int,
    method: str = "fitted",
    *,
    max_tokens: int | None = 100_000,
    rows: int = 64,
    primer_tokens: int = 200,
    fit_lines: int = 4000,
    fit_steps: int = 200,
    fit_batch_size: int = 64,
    fit_lr: float = 0.05,
    seed: int = 0,
) -> RecurrentState:
    """The line-start state of ``model`` estimated from the training stream ``ids`` LongTensor[N]
    (lines each followed by ``eos_id``) by ``method`` ('mean', 'primer' or 'fitted', see the module
    docstring). Returns a RecurrentState with h (and c for an LSTM) [num_layers, 1, hidden_size].

    'mean' reads the first ``max_tokens`` tokens in ``rows`` streams; 'fitted' starts from 'mean' and
    fits on ``fit_lines`` lines drawn (seeded) from the whole stream."""
    if method not in METHODS:
        raise ConfigError(f"method = {method!r}: must be one of {list(METHODS)}")
    ids = _check_stream(ids, eos_id)
    if method == "primer":
        return primer_state(model, ids, eos_id, primer_tokens)
    mean = mean_state(line_end_states(model, ids, eos_id, rows=rows, max_tokens=max_tokens))
    if method == "mean":
        return mean
    lines = [line for line in split_lines(ids, eos_id) if len(line) > 0]
    rng = random.Random(f"seqlab-line-start-lines:{seed}")
    sample = lines if len(lines) <= fit_lines else rng.sample(lines, fit_lines)
    return fit_start_state(
        model, sample, eos_id, mean, steps=fit_steps, batch_size=fit_batch_size, lr=fit_lr, seed=seed
    )


# ---------------------------------------------------------------------------------------------
# The run directory's line_start.safetensors
# ---------------------------------------------------------------------------------------------


def save_line_start(
    run_dir: str | Path, state: RecurrentState, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``state`` ([L, 1, H] h, and c) to ``run_dir/line_start.safetensors`` atomically, with
    ``metadata`` (values turned into strings, e.g. ``{"method": "fitted"}``). Returns the path."""
    if state.h.dim() != 3 or state.h.shape[1] != 1:
        raise ConfigError(f"a line-start state has h of shape [L, 1, H]; got {tuple(state.h.shape)}")
    tensors = {"h": state.h.detach().cpu().contiguous()}
    if state.c is not None:
        if state.c.shape != state.h.shape:
            raise ConfigError(f"c has shape {tuple(state.c.shape)}, h {tuple(state.h.shape)}: must match")
        tensors["c"] = state.c.detach().cpu().contiguous()
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    path = Path(run_dir) / LINE_START_FILE
    atomic_write_bytes(path, save_safetensors(tensors, metadata=meta))
    return path


def read_line_start_metadata(run_dir: str | Path) -> dict[str, str]:
    """The string metadata saved with the line-start state ({} when none)."""
    from safetensors import safe_open

    path = Path(run_dir) / LINE_START_FILE
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata() or {})


def load_line_start(
    run_dir: str | Path, model: nn.Module | None = None, device: torch.device | str | None = None
) -> RecurrentState | None:
    """The state saved by :func:`save_line_start` ([L, 1, H] h, and c), or None when the run directory
    has no ``line_start.safetensors`` (runs trained before it existed). With ``model``, the shapes and
    the presence of c are checked against it (CheckpointError if they differ) and the tensors take
    its device and dtype unless ``device`` is given."""
    path = Path(run_dir) / LINE_START_FILE
    if not path.is_file():
        return None
    try:
        tensors = load_safetensors(path.read_bytes())
    except (SafetensorError, ValueError, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None
    unknown = sorted(set(tensors) - {"h", "c"})
    if "h" not in tensors or unknown:
        raise CheckpointError(f"{path}: expected tensors 'h' (and 'c'); found {sorted(tensors)}")
    h, c = tensors["h"], tensors.get("c")
    if h.dim() != 3 or h.shape[1] != 1 or (c is not None and c.shape != h.shape):
        raise CheckpointError(
            f"{path}: h {tuple(h.shape)}, c {None if c is None else tuple(c.shape)}: expected [L, 1, H] each"
        )
    if model is not None:
        layers, hidden, has_c = _model_dims(model)
        if tuple(h.shape) != (layers, 1, hidden) or (c is not None) != has_c:
            raise CheckpointError(
                f"{path}: h {tuple(h.shape)}{' with' if c is not None else ' without'} c does not fit the "
                f"model ([{layers}, 1, {hidden}]{' with' if has_c else ' without'} c); estimate it again"
            )
        weight = next(model.parameters())
        h, c = h.to(weight.dtype), None if c is None else c.to(weight.dtype)
        device = device or weight.device
    if device is not None:
        h, c = h.to(device), None if c is None else c.to(device)
    return RecurrentState(h, c)


def perplexity(nll_sum: float, tokens: int) -> float:
    """exp(nll_sum / tokens); inf on overflow, nan without tokens."""
    if tokens <= 0:
        return math.nan
    try:
        return math.exp(nll_sum / tokens)
    except OverflowError:
        return math.inf
