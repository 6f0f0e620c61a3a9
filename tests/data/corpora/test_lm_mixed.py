"""Stream windows with fresh-line batches mixed in: the share, the untouched stream, exact resume."""

from __future__ import annotations

import pytest
import torch

from seqlab.config import ModelConfig
from seqlab.data.batching.bptt import BPTTBatcher
from seqlab.data.corpora.lm_lines import LineLoader, encode_line_examples
from seqlab.data.corpora.lm_mixed import MixedBatcher
from seqlab.errors import ConfigError
from seqlab.models.language_model import LanguageModel

EOS, PAD = 3, 0


def make(share: float = 0.3, seed: int = 5) -> MixedBatcher:
    lines = [[4 + (i + j) % 7 for j in range(1 + i % 6)] for i in range(60)]
    stream = BPTTBatcher(torch.tensor([t for line in lines for t in (*line, EOS)]), batch_size=4, bptt=6)
    loader = LineLoader(encode_line_examples(lines), EOS, PAD, max_tokens=24, seed=seed)
    return MixedBatcher(stream, loader, share, seed=seed)


def test_every_stream_window_once_in_order_and_lines_in_between():
    mixed = make()
    batches = list(mixed)
    stream_part = [b for b in batches if b.carries]
    expected = list(make(0.0).stream)
    assert len(stream_part) == len(expected)
    assert all(torch.equal(a.inputs, b.inputs) for a, b in zip(stream_part, expected))
    line_part = [b for b in batches if not b.carries]
    assert line_part and all(b.reset for b in line_part)
    assert len(batches) == len(mixed)
    assert 0.1 < len(line_part) / len(batches) < 0.6


def test_resume_mid_epoch_gives_the_same_remaining_batches():
    first = make()
    first.set_epoch(1)
    iterator = iter(first)
    for _ in range(7):
        next(iterator)
    state = first.state_dict()
    rest = [b.inputs for b in iterator]
    second = make()
    second.set_epoch(1)
    second.load_state_dict(state)
    again = [b.inputs for b in second]
    assert len(rest) == len(again) and all(torch.equal(a, b) for a, b in zip(rest, again))


def test_a_line_batch_leaves_the_carried_stream_state_alone():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(embedding_size=8, hidden_size=8, num_layers=1, dropout=0.0), 12).eval()
    mixed = make()
    batches = list(mixed)
    window, line = next(b for b in batches if b.carries), next(b for b in batches if not b.carries)
    with torch.no_grad():
        model.loss(window)
        carried = model.carry_state()
        model.loss(line)
    assert all(torch.equal(carried[k], v) for k, v in model.carry_state().items())


def test_share_is_checked():
    with pytest.raises(ConfigError, match=r"fresh_line_share = 1.0: must be in \[0, 1\)"):
        make(1.0)
