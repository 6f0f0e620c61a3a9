"""The evaluation loop shared by the Trainer and inference: one set of numbers, the model left as found."""

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from seqlab.models.evaluation import evaluate_model, metrics_from_sums, summed_loss_stats
from seqlab.training.evaluate import evaluate


@dataclass
class Batch:
    x: torch.Tensor

    def to(self, device):
        return Batch(self.x.to(device))

    @property
    def num_tokens(self) -> int:
        return self.x.numel()


class Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(2.0))
        self.drop = nn.Dropout(0.5)

    def loss(self, batch: Batch):
        loss = (self.drop(batch.x) * self.w).sum()
        return loss, {"nll": float(loss), "tokens": batch.num_tokens}

    @classmethod
    def summarize(cls, sums):
        return {"per_token": sums["nll"] / sums["tokens"]}


BATCHES = [Batch(torch.ones(2, 3)), Batch(torch.full((1, 4), 3.0))]


def test_sums_and_metrics_in_eval_mode():
    model = Toy().train()
    sums = summed_loss_stats(model, BATCHES, torch.device("cpu"))
    assert model.training  # restored
    assert sums == {"__loss": 12.0 + 24.0, "__batches": 2.0, "__tokens": 10.0, "nll": 36.0, "tokens": 10.0}
    metrics = metrics_from_sums(model, sums, seconds=2.0)
    assert metrics["loss"] == pytest.approx(18.0)
    assert metrics["per_token"] == pytest.approx(3.6)
    assert metrics["tokens_per_s"] == pytest.approx(5.0)


def test_inference_and_trainer_evaluation_agree_and_the_trainer_keeps_the_random_state():
    model = Toy()
    torch.manual_seed(7)
    before = torch.get_rng_state()
    trainer = evaluate(model, BATCHES, torch.device("cpu"))
    assert torch.equal(torch.get_rng_state(), before)
    inference = evaluate_model(model, BATCHES, torch.device("cpu"))
    assert {k: v for k, v in trainer.items() if k != "tokens_per_s"} == {
        k: v for k, v in inference.items() if k != "tokens_per_s"
    }


def test_no_batches_gives_a_nan_loss_and_no_summary():
    metrics = evaluate_model(Toy(), [], torch.device("cpu"))
    assert metrics["loss"] != metrics["loss"] and "per_token" not in metrics
