"""greedy_refill_search gives every sentence what greedy_search gives it, at any width, on the real
Seq2SeqModel (every decoder type), and decode_ids uses it for plain greedy decoding."""

import pytest
import torch
from test_beam_seq2seq import DECODERS, VOCAB, build, search

from seqlab.decoding import greedy_refill_search, greedy_search
from seqlab.errors import ConfigError


def many_sources(n: int = 11) -> list[list[int]]:
    g = torch.Generator().manual_seed(3)
    return [
        torch.randint(4, VOCAB, (int(k),), generator=g).tolist()
        for k in torch.randint(1, 9, (n,), generator=g)
    ]


@pytest.mark.parametrize("name", list(DECODERS))
@pytest.mark.parametrize("width", [1, 3, 20])
def test_each_sentence_gets_its_greedy_output(name, width):
    model = build(name)
    batch = many_sources()
    expected = search(greedy_search, model, batch)
    got = search(greedy_refill_search, model, batch, width=width)
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert a.tokens == b.tokens
        assert a.score == pytest.approx(b.score, abs=1e-4)
        assert a.log_prob == pytest.approx(b.log_prob, abs=1e-4)
        if b.attention is None:
            assert a.attention is None
        else:
            torch.testing.assert_close(a.attention, b.attention, atol=1e-5, rtol=1e-4)


def test_rows_are_refilled_as_sentences_end():
    model = build("luong-general")
    batch = many_sources(9)
    rows = []
    step = model.decode_step

    def counting(tokens, state, memory):
        rows.append(tokens.shape[0])
        return step(tokens, state, memory)

    model.decode_step = counting
    search(greedy_refill_search, model, batch, width=3)
    assert max(rows) == 3
    # the decoder stays full until fewer than 3 sentences are left to start
    outputs = search(greedy_search, build("luong-general"), batch)
    total_steps = sum(len(h.tokens) + 1 for h in outputs)
    assert sum(rows) == total_steps
    assert len(rows) < total_steps  # rows ran side by side


def test_width_must_be_a_positive_integer():
    model = build("none")
    with pytest.raises(ConfigError, match="width = 0"):
        search(greedy_refill_search, model, many_sources(3), width=0)


def test_decode_ids_refills_plain_greedy_and_gives_the_same_hypotheses(monkeypatch):
    import seqlab.decoding.batched as glue

    model = build("luong-concat+feed")
    sources = many_sources(13)
    opts = glue.SearchOptions(beam_size=1, max_length=12)
    assert glue.refills(opts)
    assert not glue.refills(glue.SearchOptions(beam_size=1, no_repeat_ngram=2))
    assert not glue.refills(glue.SearchOptions(beam_size=5))
    monkeypatch.setattr(glue, "REFILL_WINDOW_BATCHES", 2)
    refilled = glue.decode_ids(model, sources, opts, batch_size=3)
    monkeypatch.setattr(glue, "refills", lambda opts: False)
    batched = glue.decode_ids(model, sources, opts, batch_size=3)
    assert [h[0].tokens for h in refilled] == [h[0].tokens for h in batched]
    assert [h[0].score for h in refilled] == pytest.approx([h[0].score for h in batched], abs=1e-4)


def test_refill_windows_hold_several_batches_but_bounded_padded_tokens():
    import seqlab.decoding.batched as glue

    short = [5] * 40
    cut = glue.windows(short, 4, refill=True)
    assert [len(w) for w in cut] == [glue.REFILL_WINDOW_BATCHES * 4, 40 - glue.REFILL_WINDOW_BATCHES * 4]
    assert [len(w) for w in glue.windows(short, 4, refill=False)] == [4] * 10
    # long sources: the padded-token budget (8 x 4 x 64 = 2,048) cuts first, never under a batch
    lengths = [3, 500, 200, 700, 200, 200, 200, 200, 200, 200, 200, 200]
    cut = glue.windows(lengths, 4, refill=True)
    assert sorted(i for w in cut for i in w) == list(range(len(lengths)))
    for window in cut:
        assert len(window) >= 4 or window is cut[-1]
        longest = max(lengths[i] for i in window)
        assert len(window) <= 4 or len(window) * longest <= 8 * 4 * 64
        assert [lengths[i] for i in window] == sorted(lengths[i] for i in window)


def test_a_refilled_row_copies_one_sentence_not_the_whole_memory(monkeypatch):
    """A sentence that starts takes the ended row's place in the memory (put_rows); the memory is
    reordered only when the decoder thins out (no sentence left to start), at most width times."""
    from seqlab.models.encoder import EncoderMemory

    batch = many_sources(9)
    expected = search(greedy_search, build("luong-general"), batch)
    reorders = []
    original = EncoderMemory.reorder

    def counting(self, indices):
        reorders.append(int(indices.shape[0]))
        return original(self, indices)

    monkeypatch.setattr(EncoderMemory, "reorder", counting)
    got = search(greedy_refill_search, build("luong-general"), batch, width=3)
    assert [h.tokens for h in got] == [h.tokens for h in expected]
    assert reorders[0] == 3  # the first width sentences
    assert len(reorders) <= 1 + 3
