"""A tiny model and a tiny resumable loader that implement the Trainer's contracts."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import nn
from torch.nn import functional as F

from seqlab.config import OptimizerConfig, TrainingConfig

VOCAB = 11


@dataclass
class ToyBatch:
    """inputs/targets: LongTensor[B]; ``poison`` makes the model's loss NaN."""

    inputs: torch.Tensor
    targets: torch.Tensor
    poison: bool = False

    def to(self, device: torch.device | str) -> ToyBatch:
        return replace(self, inputs=self.inputs.to(device), targets=self.targets.to(device))

    @property
    def num_tokens(self) -> int:
        return int(self.inputs.numel())


class ToyModel(nn.Module):
    """Embedding → (+ carried vector) → tanh linear → dropout → tied output layer."""

    def __init__(self, dim: int = 8, dropout: float = 0.2, tie: bool = True, carry: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim)
        self.hidden = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim, VOCAB)
        if tie:
            self.out.weight = self.embed.weight
        self.carry = torch.zeros(dim)
        self.use_carry = carry

    def loss(self, batch: ToyBatch) -> tuple[torch.Tensor, dict[str, float]]:
        h = torch.tanh(self.hidden(self.embed(batch.inputs) + self.carry.to(batch.inputs.device)))
        if self.training and self.use_carry:
            self.carry = 0.5 * h.mean(0).detach()
        logits = self.out(self.drop(h))
        nll = F.cross_entropy(logits, batch.targets, reduction="sum")
        loss = nll / batch.targets.numel()
        if batch.poison:
            loss = loss * float("nan")
        return loss, {"nll_sum": float(nll.detach()), "tokens": float(batch.targets.numel())}

    @staticmethod
    def summarize(stats: dict[str, float]) -> dict[str, float]:
        loss = stats["nll_sum"] / max(stats["tokens"], 1.0)
        return {"loss": loss, "ppl": math.exp(min(loss, 50.0)), "constant": 1.0}

    def carry_state(self) -> dict[str, torch.Tensor]:
        return {"carry": self.carry}

    def load_carry_state(self, state: dict[str, torch.Tensor]) -> None:
        self.carry = state["carry"].clone()


def make_examples(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, VOCAB, (n,), generator=generator)
    return inputs, (inputs * 3 + 1) % VOCAB


class ToyLoader:
    """Shuffled mini-batches; resumable mid-epoch through state_dict/load_state_dict."""

    def __init__(
        self, n_batches: int = 6, batch_size: int = 4, seed: int = 0, poison: frozenset[int] = frozenset()
    ) -> None:
        self.inputs, self.targets = make_examples(n_batches * batch_size, seed)
        self.n_batches, self.batch_size, self.seed, self.poison = n_batches, batch_size, seed, poison
        self.epoch = 0
        self.position = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.position = epoch, 0

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self):
        order = torch.randperm(
            self.n_batches, generator=torch.Generator().manual_seed(self.seed + self.epoch)
        )
        while self.position < self.n_batches:
            index = int(order[self.position])
            self.position += 1
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            yield ToyBatch(self.inputs[rows], self.targets[rows], poison=index in self.poison)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = state["epoch"], state["position"]


class ToyValid:
    """Re-iterable validation batches."""

    def __init__(self, n_batches: int = 2, batch_size: int = 4) -> None:
        inputs, targets = make_examples(n_batches * batch_size, seed=99)
        self.batches = [
            ToyBatch(inputs[i : i + batch_size], targets[i : i + batch_size])
            for i in range(0, len(inputs), batch_size)
        ]

    def __iter__(self):
        return iter(self.batches)


def toy_config(**overrides) -> TrainingConfig:
    """A quiet, single-threaded CPU config; ``overrides`` replace fields."""
    base = dict(device="cpu", threads=1, progress=False, log_every=1, max_epochs=2, clip_grad_norm=1.0)
    base.update(overrides)
    return TrainingConfig(**base)


class FixedLoader:
    """The same list of batches every epoch, resumable like ToyLoader (for DDP tests)."""

    def __init__(self, batches: list[ToyBatch]) -> None:
        self.batches = batches
        self.epoch = 0
        self.position = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.position = epoch, 0

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        while self.position < len(self.batches):
            self.position += 1
            yield self.batches[self.position - 1]

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = state["epoch"], state["position"]


def global_batch(size: int = 8) -> ToyBatch:
    inputs, targets = make_examples(size, seed=5)
    return ToyBatch(inputs, targets)


def ddp_config(**overrides) -> TrainingConfig:
    """One SGD step, no clipping, no dropout-dependent randomness: comparable across world sizes."""
    base = dict(
        max_steps=1,
        clip_grad_norm=None,
        optimizer=OptimizerConfig(name="sgd", lr=0.5),
    )
    base.update(overrides)
    return toy_config(**base)
