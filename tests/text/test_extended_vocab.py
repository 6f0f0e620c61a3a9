"""A source's extended target vocabulary: per-sentence ids for its unknown words, targets that point
at them, and decoding back to the source's words."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqlab.text.extended_vocab import extend_source
from seqlab.text.vocab import Vocabulary

VOCAB = Vocabulary.build([["the", "cat", "sat"]])  # 4 specials + 3 words: V = 7


def test_unknown_source_words_get_ids_from_v_in_order_of_first_appearance():
    copy = extend_source(["the", "zorg", "cat", "blip", "zorg"], VOCAB)
    v = len(VOCAB)
    assert copy.ids == [VOCAB.stoi["the"], v, VOCAB.stoi["cat"], v + 1, v]
    assert copy.oovs == ["zorg", "blip"]
    assert copy.vocab_size == v


def test_numbering_is_per_sentence():
    assert extend_source(["blip"], VOCAB).ids == extend_source(["zorg"], VOCAB).ids == [len(VOCAB)]


def test_specials_spelled_in_the_source_copy_as_unk():
    copy = extend_source(["<pad>", "<bos>", "<eos>", "<unk>"], VOCAB)
    assert copy.ids == [VOCAB.unk_id] * 4
    assert copy.oovs == []


def test_targets_point_at_the_source_words_else_unk():
    copy = extend_source(["zorg", "cat", "blip"], VOCAB)
    v = len(VOCAB)
    assert copy.target_ids(["blip", "sat", "zorg", "nowhere"], VOCAB) == [v + 1, VOCAB.stoi["sat"], v, 1]


def test_decode_maps_extended_ids_back_and_drops_specials():
    copy = extend_source(["zorg", "cat"], VOCAB)
    v = len(VOCAB)
    ids = [VOCAB.bos_id, v, VOCAB.stoi["the"], VOCAB.unk_id, VOCAB.eos_id]
    assert copy.decode(ids, VOCAB) == ["zorg", "the", "<unk>"]
    with pytest.raises(IndexError, match="1 copied token"):
        copy.decode([v + 1], VOCAB)


WORDS = st.lists(st.sampled_from(["the", "cat", "sat", "a", "b", "c", "dd", "ee"]), min_size=1, max_size=12)


@given(WORDS)
def test_a_source_copied_whole_decodes_to_itself(tokens):
    copy = extend_source(tokens, VOCAB)
    assert copy.target_ids(tokens, VOCAB) == copy.ids
    assert copy.decode(copy.ids, VOCAB) == tokens
    assert all(i < len(VOCAB) + len(copy.oovs) for i in copy.ids)
