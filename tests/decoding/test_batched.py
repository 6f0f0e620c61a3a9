"""decode_ids: results in input order whatever the length sort, copy ids travelling with their
sources."""

import pytest
import torch
from test_beam_seq2seq import VOCAB, build

from seqlab.config import ModelConfig
from seqlab.decoding.batched import decode_ids
from seqlab.decoding.options import SearchOptions
from seqlab.models.seq2seq import Seq2SeqModel


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


def test_a_copy_model_decodes_each_source_over_its_own_extended_vocabulary():
    """Copy ids go with their sources through the length sort; a sentence's output over its own
    extended ids (V, V+1, ... for its own unknown words) does not depend on its batch."""
    torch.manual_seed(0)
    cfg = ModelConfig(embedding_size=8, hidden_size=8, num_layers=1, init_range=0.6, copy_attention=True)
    model = Seq2SeqModel(cfg, VOCAB, VOCAB).eval()
    with torch.no_grad():
        model.copy.gate.bias.fill_(-4.0)  # mostly copying
    g = torch.Generator().manual_seed(5)
    sources = [torch.randint(4, VOCAB, (int(k),), generator=g).tolist() for k in (7, 2, 5, 1, 6, 3)]
    # each source's first and third tokens are words the target vocabulary lacks
    copies = [[VOCAB + (i == 2) if i in (0, 2) else t for i, t in enumerate(s)] for s in sources]
    for options, batch_size in ((SearchOptions(beam_size=3, n_best=2, max_length=8), 2),
                                (SearchOptions(beam_size=1, max_length=8), 4)):  # fmt: skip
        found = decode_ids(model, sources, options, batch_size=batch_size, copy_sources=copies)
        assert any(t >= VOCAB for hyps in found for t in hyps[0].tokens)
        for source, copy, hyps in zip(sources, copies, found, strict=True):
            assert all(t < VOCAB + len({c for c in copy if c >= VOCAB}) for h in hyps for t in h.tokens)
            alone = decode_ids(model, [source], options, batch_size=1, copy_sources=[copy])[0]
            assert [h.tokens for h in hyps] == [h.tokens for h in alone]
    with pytest.raises(ValueError, match="copy-id lists"):
        decode_ids(model, sources, SearchOptions(), batch_size=2, copy_sources=copies[:2])
