"""quantize_seq2seq: every LSTM decoder kind keeps its outputs close to float32 with its products in
int8, decodes each sentence the same alone and in a batch (beam and greedy), and int8_refusal names
what int8 does not apply to (a GRU, a GPU, another model) in one line."""

import pytest
import torch
from torch import nn

from seqlab.config import ModelConfig
from seqlab.decoding.batched import decode_ids
from seqlab.decoding.options import SearchOptions
from seqlab.models.int8_products import Int8Linear, int8_kernels_missing
from seqlab.models.quantize import INT8_PARTS, int8_refusal, quantize_seq2seq
from seqlab.models.seq2seq import Seq2SeqModel

pytestmark = pytest.mark.skipif(int8_kernels_missing() is not None, reason="no x86 int8 kernels")

VOCAB = 20
DECODERS = {
    "none": dict(attention="none"),
    "none+context": dict(attention="none", context_every_step=True),
    "bahdanau+coverage": dict(attention="bahdanau", coverage=True),
    "luong-dot": dict(attention="luong", attention_score="dot"),
    "luong-general": dict(attention="luong", attention_score="general"),
    "luong-concat+feed": dict(attention="luong", attention_score="concat", input_feeding=True),
    "luong+tied": dict(attention="luong", tie_decoder_embeddings=True, decoder_hidden_size=24),
    "luong+copy": dict(attention="luong", bidirectional=True, copy_attention=True),
}


def build(name: str) -> Seq2SeqModel:
    torch.manual_seed(0)
    cfg = ModelConfig(embedding_size=12, hidden_size=16, num_layers=2, init_range=0.3, **DECODERS[name])
    return Seq2SeqModel(cfg, VOCAB, VOCAB).eval()


def sources(count: int = 9) -> list[list[int]]:
    g = torch.Generator().manual_seed(2)
    return [
        torch.randint(4, VOCAB, (int(n),), generator=g).tolist()
        for n in torch.randint(1, 10, (count,), generator=g)
    ]


def copy_ids(batch: list[list[int]]) -> list[list[int]]:
    return [[VOCAB if i == 0 else t for i, t in enumerate(s)] for s in batch]  # one unknown word each


def first_steps(model: Seq2SeqModel, batch: list[list[int]], steps: int = 4) -> list[torch.Tensor]:
    """The scores of ``steps`` decoder steps fed the same tokens."""
    lengths = torch.tensor([len(s) for s in batch])
    src = torch.zeros(len(batch), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(batch):
        src[i, : len(s)] = torch.tensor(s)
    copy = None
    if model.copy is not None:
        copy = torch.zeros_like(src)
        for i, s in enumerate(copy_ids(batch)):
            copy[i, : len(s)] = torch.tensor(s)
    with torch.no_grad():
        memory = model.encode(src, lengths, copy)
        state = model.start_state(memory)
        tokens = torch.full((len(batch),), model.bos_id)
        out = []
        for t in range(steps):
            scores, state, _ = model.decode_step(tokens, state, memory)
            out.append(scores)
            tokens = torch.full((len(batch),), 4 + t)
    return out


@pytest.mark.parametrize("name", list(DECODERS))
def test_int8_scores_stay_close_to_float32_and_differ_from_them(name):
    model = build(name)
    expected = first_steps(model, sources())
    done = quantize_seq2seq(model)
    assert "decoder.rnn (steps)" in done and "output" in done
    assert isinstance(model.output, Int8Linear)
    got = first_steps(model, sources())
    worst = max(float((a - b).abs().max()) for a, b in zip(got, expected, strict=True))
    assert 0 < worst < 0.05, worst  # random weights, |scores| ~ 1: a few hundredths at most


def test_the_parts_left_float32_and_the_tying_projection_folded_into_the_output():
    model = build("luong+tied")
    assert isinstance(model.pre_output, nn.Linear)
    done = quantize_seq2seq(model)
    assert model.pre_output is None and "pre_output (folded into output)" in done
    assert isinstance(model.bridge.c_proj, nn.Linear)  # reads the cell state: not bounded by 1
    assert isinstance(model.target_embedding, nn.Embedding)
    copy = build("luong+copy")
    quantize_seq2seq(copy, parts=("output",))
    assert isinstance(copy.copy.gate, nn.Linear) and isinstance(copy.decoder.combine, nn.Linear)
    assert not copy.decoder.int8


@pytest.mark.parametrize("name", ["bahdanau+coverage", "luong-concat+feed", "luong+copy"])
def test_each_sentence_decodes_the_same_alone_and_in_a_batch(name):
    model = build(name)
    quantize_seq2seq(model)
    batch = sources()
    copies = copy_ids(batch) if model.copy is not None else None
    for options, batch_size in ((SearchOptions(beam_size=3, n_best=2, max_length=8), 4),
                                (SearchOptions(beam_size=1, max_length=8), 3)):  # fmt: skip
        found = decode_ids(model, batch, options, batch_size=batch_size, copy_sources=copies)
        for i, hyps in enumerate(found):
            alone = decode_ids(
                model, [batch[i]], options, 1, copy_sources=None if copies is None else [copies[i]]
            )
            assert [h.tokens for h in hyps] == [h.tokens for h in alone[0]]
            assert [h.score for h in hyps] == pytest.approx([h.score for h in alone[0]], abs=1e-5)


def test_where_int8_does_not_apply_it_says_why_in_one_line():
    torch.manual_seed(0)
    gru = Seq2SeqModel(ModelConfig(embedding_size=8, hidden_size=8, cell="gru"), VOCAB, VOCAB)
    reasons = {
        "gru": int8_refusal(gru, "cpu"),
        "cuda": int8_refusal(build("luong-general"), "cuda:0"),
        "other": int8_refusal(nn.LSTM(4, 4), "cpu"),
    }
    assert "GRU" in reasons["gru"] and "cuda:0" in reasons["cuda"] and "Seq2Seq" in reasons["other"]
    assert all(reason and "\n" not in reason for reason in reasons.values())
    assert int8_refusal(build("luong-general"), "cpu") is None
    with pytest.raises(ValueError, match="GRU"):
        quantize_seq2seq(gru)
    assert isinstance(gru.output, nn.Linear)  # refused before anything changed
    with pytest.raises(ValueError, match="must be among"):
        quantize_seq2seq(build("none"), parts=("steps", "encoder"))
    assert set(INT8_PARTS) == {"steps", "combine", "output", "attention", "bridge"}
