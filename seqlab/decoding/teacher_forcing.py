"""Teacher forcing through the decoding protocol: what decoding sees, scored like training.

:func:`teacher_forced_hits` feeds each reference target, token by token, through ``encode`` /
``start_state`` / ``decode_step``, from exactly the start state every search uses, and counts the
steps where the model's argmax is the reference token (the target tokens and the final ``<eos>``).
The ratio is the token accuracy decoding starts from; the Trainer reports the same quantity on its
validation batches (``accuracy`` of a Seq2Seq model, ``target_accuracy`` of a language model over
``source <sep> target`` lines). When the two differ, decoding runs the model from states it did not
train in: the check that would have caught a language model trained on a stream and prompted from
zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor


@torch.no_grad()
def teacher_forced_hits(
    model: Any,
    src: Tensor,
    src_lengths: Tensor,
    targets: Sequence[Sequence[int]],
    src_copy: Tensor | None = None,
) -> tuple[int, int]:
    """(argmax hits, predicted tokens) over ``targets`` + ``<eos>``.

    ``model`` speaks the protocol (``encode``, ``start_state``, ``decode_step``, ``bos_id``,
    ``eos_id``, ``pad_id``); src LongTensor[B, S] right-padded source ids, src_lengths LongTensor[B];
    ``targets``: B id lists (no ``<bos>``/``<eos>``). Step t feeds ``<bos>`` (t = 0) or the reference
    token t - 1, and predicts reference token t (``<eos>`` after the last). A copy-attention
    model takes ``src_copy`` LongTensor[B, S] (its sources' copy ids) and targets over the extended
    vocabulary.
    """
    batch = src.shape[0]
    if len(targets) != batch:
        raise ValueError(f"{len(targets)} targets for a batch of {batch} sources")
    device = src.device
    gold = [[*target, model.eos_id] for target in targets]
    steps = max(len(row) for row in gold)
    reference = torch.full((batch, steps), model.pad_id, dtype=torch.long, device=device)
    for row, ids in enumerate(gold):
        reference[row, : len(ids)] = torch.tensor(ids, dtype=torch.long, device=device)
    real = reference != model.pad_id
    memory = model.encode(src, src_lengths) if src_copy is None else model.encode(src, src_lengths, src_copy)
    state = model.start_state(memory)
    tokens = torch.full((batch,), model.bos_id, dtype=torch.long, device=device)
    hits = 0
    for t in range(steps):
        logits, state, _ = model.decode_step(tokens, state, memory)
        hits += int(((logits.argmax(dim=-1) == reference[:, t]) & real[:, t]).sum())
        tokens = reference[:, t].masked_fill(~real[:, t], model.eos_id)
    return hits, int(real.sum())
