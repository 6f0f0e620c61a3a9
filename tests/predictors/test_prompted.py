"""PromptedLanguageModel.encode against the paths that trained and decode the model: each ragged
batch of prompts, read together, gives every row the logits and state that the model's training
forward gives the row alone, and that stepping it token by token through ``decode_step`` gives."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.config import ModelConfig
from seqlab.models import LanguageModel
from seqlab.predictors.prompted import PromptedLanguageModel

VOCAB = 11
LINE_START, THEN = 1, 2  # lm_sep's framing: <eos> prompt <sep>


def build(cell: str) -> LanguageModel:
    torch.manual_seed(0)
    cfg = ModelConfig(cell=cell, embedding_size=6, hidden_size=7, num_layers=2, dropout=0.0, init_range=0.5)
    return LanguageModel(cfg, VOCAB).eval()


MODELS = {cell: build(cell) for cell in ("lstm", "gru")}
prompts = st.lists(st.lists(st.integers(3, VOCAB - 1), min_size=1, max_size=7), min_size=1, max_size=6)


def padded(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    src = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
    for i, ids in enumerate(rows):
        src[i, : len(ids)] = torch.tensor(ids)
    return src, torch.tensor([len(ids) for ids in rows])


@pytest.mark.parametrize("cell", sorted(MODELS))
@settings(max_examples=40, deadline=None)
@given(rows=prompts, framed=st.booleans())
def test_encode_equals_each_row_read_alone_by_the_training_forward(cell, rows, framed):
    model = MODELS[cell]
    adapter = PromptedLanguageModel(
        model, bos_id=0, eos_id=0, line_start=LINE_START if framed else None, then=THEN if framed else None
    )
    src, lengths = padded(rows)
    with torch.no_grad():
        memory = adapter.encode(src, lengths)
        assert torch.equal(memory.lengths, lengths)
        for i, ids in enumerate(rows):
            ids = [LINE_START, *ids, THEN] if framed else ids
            logits, state = model(torch.tensor([ids]), model.init_state(1))
            torch.testing.assert_close(memory.start.logits[i], logits[0, -1])
            torch.testing.assert_close(memory.start.state.h[:, i], state.h[:, 0])
            if cell == "lstm":
                torch.testing.assert_close(memory.start.state.c[:, i], state.c[:, 0])
            else:
                assert memory.start.state.c is None


@settings(max_examples=20, deadline=None)
@given(rows=prompts)
def test_encode_equals_stepping_decode_step_token_by_token(rows):
    model = MODELS["lstm"]
    adapter = PromptedLanguageModel(model, bos_id=0, eos_id=0)
    src, lengths = padded(rows)
    with torch.no_grad():
        memory = adapter.encode(src, lengths)
        for i, ids in enumerate(rows):
            state = model.init_state(1)
            for token in ids:
                logits, state, _ = model.decode_step(torch.tensor([token]), state)
            torch.testing.assert_close(memory.start.logits[i], logits[0])
            torch.testing.assert_close(memory.start.state.h[:, i], state.h[:, 0])
            torch.testing.assert_close(memory.start.state.c[:, i], state.c[:, 0])


def test_prompts_are_read_by_one_forward_per_distinct_length():
    model = MODELS["lstm"]
    calls: list[tuple[int, int]] = []

    class Counting:
        init_state = staticmethod(model.init_state)
        decode_step = staticmethod(model.decode_step)

        def __call__(self, inputs, state):
            calls.append(tuple(inputs.shape))
            return model(inputs, state)

    src, lengths = padded([[3, 4, 5, 6], [3], [4, 4, 4, 4], [5, 6]])
    with torch.no_grad():
        PromptedLanguageModel(Counting(), bos_id=0, eos_id=0).encode(src, lengths)
    # lengths 1, 2, 4: all four rows read 1 token, the three longer ones 1 more, the two longest 2 more
    assert calls == [(4, 1), (3, 1), (2, 2)]
