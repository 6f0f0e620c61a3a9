"""EncoderMemory.put_rows (greedy refill search): the given rows take another memory's rows in
place, every field, and no other row changes."""

import torch

from seqlab.models.encoder import EncoderMemory
from seqlab.models.state import RecurrentState


def memory(batch: int, seed: int, copy: bool = True) -> EncoderMemory:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, 6, (batch,), generator=g)
    mask = torch.arange(5).unsqueeze(0) < lengths.unsqueeze(1)
    return EncoderMemory(
        states=torch.randn(batch, 5, 4, generator=g) * mask.unsqueeze(-1),
        mask=mask,
        lengths=lengths,
        final=RecurrentState(torch.randn(2, batch, 4, generator=g), torch.randn(2, batch, 4, generator=g)),
        keys=torch.randn(batch, 5, 3, generator=g),
        copy_ids=torch.randint(0, 20, (batch, 5), generator=g) if copy else None,
        extended_size=23,
    )


def test_put_rows_copies_every_field_of_the_given_rows_and_nothing_else():
    rows, source = memory(4, seed=0), memory(6, seed=1)
    before = memory(4, seed=0)
    slots, taken = torch.tensor([3, 1]), torch.tensor([5, 0])
    rows.put_rows(slots, source, taken)
    expected = before.reorder(torch.tensor([0, 0, 2, 0]))  # rows 0 and 2 as they were
    for name in ("states", "mask", "lengths", "keys", "copy_ids"):
        got, old, new = getattr(rows, name), getattr(before, name), getattr(source, name)
        torch.testing.assert_close(got[[0, 2]], old[[0, 2]])
        torch.testing.assert_close(got[slots], new[taken])
        assert got.shape == getattr(expected, name).shape
    for part in ("h", "c"):
        got, old, new = getattr(rows.final, part), getattr(before.final, part), getattr(source.final, part)
        torch.testing.assert_close(got[:, [0, 2]], old[:, [0, 2]])
        torch.testing.assert_close(got[:, slots], new[:, taken])


def test_put_rows_leaves_absent_fields_absent():
    rows = memory(3, seed=2, copy=False)
    rows.put_rows(torch.tensor([0]), memory(2, seed=3, copy=False), torch.tensor([1]))
    assert rows.copy_ids is None
