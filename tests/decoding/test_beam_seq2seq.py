"""The searches on the real Seq2SeqModel (random weights, every decoder type)."""

import pytest
import torch

from seqlab.config import ModelConfig
from seqlab.decoding import LengthPenalty, NoRepeatNGram, beam_search, greedy_search, length_limits
from seqlab.models.seq2seq import Seq2SeqModel

VOCAB = 16
DECODERS = {
    "none": dict(attention="none"),
    "none+context": dict(attention="none", context_every_step=True),
    "bahdanau": dict(attention="bahdanau"),
    "luong-dot": dict(attention="luong", attention_score="dot"),
    "luong-general": dict(attention="luong", attention_score="general"),
    "luong-concat+feed": dict(attention="luong", attention_score="concat", input_feeding=True),
    "luong-gru+bi": dict(attention="luong", cell="gru", bidirectional=True, decoder_hidden_size=10),
    "bahdanau+coverage": dict(attention="bahdanau", coverage=True),
    "luong-general+coverage": dict(attention="luong", attention_score="general", coverage=True),
}


def build(name: str) -> Seq2SeqModel:
    torch.manual_seed(0)
    cfg = ModelConfig(embedding_size=8, hidden_size=8, num_layers=2, init_range=0.6, **DECODERS[name])
    return Seq2SeqModel(cfg, VOCAB, VOCAB).eval()


def sources() -> list[list[int]]:
    g = torch.Generator().manual_seed(1)
    return [
        torch.randint(4, VOCAB, (int(n),), generator=g).tolist()
        for n in torch.randint(1, 9, (7,), generator=g)
    ]


def search(fn, model, batch, **kwargs):
    lengths = torch.tensor([len(s) for s in batch])
    src = torch.zeros(len(batch), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(batch):
        src[i, : len(s)] = torch.tensor(s)
    max_lengths, min_lengths = length_limits(lengths, max_length=12, max_length_ratio=2.0, min_length=1)
    with torch.no_grad():
        memory = model.encode(src, lengths)
        state = model.start_state(memory)
    return fn(
        model,
        memory,
        state,
        max_lengths=max_lengths,
        min_lengths=min_lengths,
        bos_id=model.bos_id,
        eos_id=model.eos_id,
        **kwargs,
    )


def same(a, b):
    assert a.tokens == b.tokens
    assert a.score == pytest.approx(b.score, abs=1e-4)
    assert a.log_prob == pytest.approx(b.log_prob, abs=1e-4)
    assert (a.attention is None) == (b.attention is None)
    if a.attention is not None:
        assert torch.allclose(a.attention, b.attention, atol=1e-5)


@pytest.mark.parametrize("name", DECODERS)
def test_beam_1_equals_greedy(name):
    model = build(name)
    batch = sources()
    greedy = search(greedy_search, model, batch)
    beam = search(beam_search, model, batch, beam_size=1)
    for g, (b,) in zip(greedy, beam, strict=True):
        same(g, b)
    assert any(len(h.tokens) > 1 for h in greedy)  # not a model that stops at once


@pytest.mark.parametrize("name", DECODERS)
def test_batched_beam_equals_each_sentence_alone(name):
    model = build(name)
    batch = sources()
    kwargs = dict(
        beam_size=4, n_best=3, length_penalty=LengthPenalty("gnmt", 0.6), processors=NoRepeatNGram(2)
    )
    if DECODERS[name]["attention"] != "none":
        kwargs["coverage_penalty"] = 0.2
    batched = search(beam_search, model, batch, **kwargs)
    for source, hyps in zip(batch, batched, strict=True):
        (alone,) = search(beam_search, model, [source], **kwargs)
        assert len(alone) == len(hyps) == 3
        for a, b in zip(alone, hyps, strict=True):
            same(a, b)
        if a.attention is not None:
            assert a.attention.shape == (len(a.tokens) + 1, len(source))
