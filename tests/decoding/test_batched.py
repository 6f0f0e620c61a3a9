"""decode_ids: results in input order whatever the length sort; pad_ids pads right."""

import torch
from test_beam_seq2seq import VOCAB, build

from seqlab.decoding.batched import decode_ids, pad_ids
from seqlab.decoding.options import SearchOptions


def test_pad_ids_pads_right_and_reports_lengths():
    tokens, lengths = pad_ids([[5, 6, 7], [8], []], pad_id=0)
    assert tokens.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]
    assert lengths.tolist() == [3, 1, 0]
    assert pad_ids([[], []], pad_id=1)[0].shape == (2, 0)


def test_decode_ids_returns_each_source_its_own_output_in_input_order():
    model = build("bahdanau")
    g = torch.Generator().manual_seed(5)
    sources = [torch.randint(4, VOCAB, (int(k),), generator=g).tolist() for k in (7, 2, 5, 1, 6, 3)]
    opts = SearchOptions(beam_size=2, max_length=10)
    greedy = SearchOptions(beam_size=1, max_length=10)  # the refilling search
    for options, batch_size in ((opts, 2), (greedy, 4)):
        found = decode_ids(model, sources, options, batch_size=batch_size)
        assert len(found) == len(sources)
        for source, hyps in zip(sources, found, strict=True):
            alone = decode_ids(model, [source], options, batch_size=1)[0]
            assert [h.tokens for h in hyps] == [h.tokens for h in alone]
