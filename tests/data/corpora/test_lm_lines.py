"""Language-model lines: fresh state per line, padding masked, prompt scoring, resumable batches."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.config import ModelConfig
from seqlab.data.batching.bptt import IGNORE_INDEX
from seqlab.data.corpora.lm_lines import LineLoader, collate_lines, encode_line_examples
from seqlab.errors import DataError
from seqlab.models.language_model import LanguageModel

EOS, PAD, SEP = 3, 0, 9


def test_collate_pads_targets_with_the_ignore_index_and_marks_the_target_side():
    lines = encode_line_examples([[5, 6, SEP, 7], [8, SEP, 4, 4, 4]], separator_id=SEP)
    batch = collate_lines(lines, EOS, PAD)
    assert batch.reset
    assert batch.inputs.tolist() == [[EOS, 5, 6, SEP, 7, PAD], [EOS, 8, SEP, 4, 4, 4]]
    assert batch.targets.tolist() == [[5, 6, SEP, 7, EOS, IGNORE_INDEX], [8, SEP, 4, 4, 4, EOS]]
    # the target side: what follows <sep>, and <eos>
    assert batch.is_target.tolist() == [
        [False, False, False, True, True, False],
        [False, False, True, True, True, True],
    ]
    assert batch.num_tokens == 11 and batch.target_tokens == 2 + 4
    assert [line.target_tokens for line in lines] == [2, 4]


def test_prefix_scoring_leaves_only_the_target_side():
    lines = encode_line_examples([[5, 6, SEP, 7]], separator_id=SEP)
    batch = collate_lines(lines, EOS, PAD, score_prompt=False)
    assert batch.targets.tolist() == [[IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 7, EOS]]
    assert batch.num_tokens == batch.target_tokens == 2


def test_a_line_without_the_separator_is_named():
    with pytest.raises(DataError, match="validation text: line 2 has no target separator"):
        encode_line_examples([[5, SEP, 6], [7, 8]], separator_id=SEP, source="validation text")


def test_without_a_separator_every_token_is_a_target():
    batch = collate_lines(encode_line_examples([[5, 6], [7]]), EOS, PAD)
    assert batch.is_target is None and batch.target_tokens == batch.num_tokens == 5


def _model() -> LanguageModel:
    torch.manual_seed(0)
    cfg = ModelConfig(embedding_size=8, hidden_size=12, num_layers=2, dropout=0.0)
    return LanguageModel(cfg, vocab_size=12).eval()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(4, 11), min_size=0, max_size=7), min_size=1, max_size=5))
def test_padding_changes_nothing_each_line_scores_as_if_alone(id_lists):
    """The batch's summed NLL equals the sum of each line scored on its own from a fresh state."""
    model = _model()
    lines = encode_line_examples(id_lists)
    with torch.no_grad():
        _, together = model.loss(collate_lines(lines, EOS, PAD))
        alone = [model.loss(collate_lines([line], EOS, PAD))[1] for line in lines]
    assert together["tokens"] == sum(s["tokens"] for s in alone)
    assert together["nll_sum"] == pytest.approx(sum(s["nll_sum"] for s in alone), rel=1e-5)
    assert together["correct"] == sum(s["correct"] for s in alone)


def test_a_line_batch_never_starts_from_a_carried_state():
    model = _model()
    lines = encode_line_examples([[5, 6, 7], [8, 9]])
    with torch.no_grad():
        first = model.loss(collate_lines(lines, EOS, PAD))[1]
        again = model.loss(collate_lines(lines, EOS, PAD))[1]  # a state is carried from the first
    assert first == again


def test_loader_budget_resume_and_target_tokens():
    lines = encode_line_examples([[4] * n + [SEP, 5] for n in range(1, 30)], separator_id=SEP)
    loader = LineLoader(lines, EOS, PAD, max_tokens=40, seed=3)
    batches = list(loader)
    assert all(b.inputs.numel() <= 40 or b.inputs.shape[0] == 1 for b in batches)
    assert sum(b.target_tokens for b in batches) == loader.target_tokens_per_epoch == 29 * 2
    # resume mid-epoch: the remaining batches are the same
    loader.set_epoch(1)
    iterator = iter(loader)
    next(iterator)
    state = loader.state_dict()
    rest = [b.inputs for b in iterator]
    other = LineLoader(lines, EOS, PAD, max_tokens=40, seed=3)
    other.load_state_dict(state)
    other.set_epoch(1)
    assert [torch.equal(a, b.inputs) for a, b in zip(rest, other)] == [True] * len(rest)


def test_an_empty_text_is_a_data_error():
    with pytest.raises(DataError, match="no lines"):
        LineLoader([], EOS, PAD, max_tokens=40)
