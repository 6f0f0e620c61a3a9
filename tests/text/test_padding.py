import torch

from seqlab.text.padding import pad_batch


def test_pad_batch_pads_right_and_reports_lengths():
    tokens, lengths = pad_batch([[5, 6, 7], [8], []], pad_id=0)
    assert tokens.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]
    assert lengths.tolist() == [3, 1, 0]
    assert tokens.dtype == torch.long and lengths.dtype == torch.long


def test_pad_batch_of_empty_sequences_or_none_has_no_columns():
    assert pad_batch([[], []], pad_id=1)[0].shape == (2, 0)
    tokens, lengths = pad_batch([], pad_id=1)
    assert tokens.shape == (0, 0) and lengths.shape == (0,)


def test_pad_batch_takes_tuples_and_ranges():
    tokens, _ = pad_batch([(4, 5), range(2)], pad_id=9)
    assert tokens.tolist() == [[4, 5], [0, 1]]
