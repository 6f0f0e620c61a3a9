import torch

from seqlab.models.state import RecurrentState


def make_state(with_cell: bool = True) -> RecurrentState:
    h = torch.arange(2 * 3 * 4, dtype=torch.float).reshape(2, 3, 4)
    return RecurrentState(h, -h if with_cell else None)


def test_reorder_selects_batch_rows():
    state = make_state()
    reordered = state.reorder(torch.tensor([2, 0, 0, 1]))
    assert reordered.h.shape == (2, 4, 4) and reordered.c.shape == (2, 4, 4)
    assert torch.equal(reordered.h[:, 0], state.h[:, 2])
    assert torch.equal(reordered.h[:, 2], state.h[:, 0])
    assert torch.equal(reordered.c[:, 3], state.c[:, 1])
    assert make_state(with_cell=False).reorder(torch.tensor([1])).c is None


def test_as_tuple_and_from_hidden_round_trip():
    state = make_state()
    h, c = state.as_tuple()
    assert h is state.h and c is state.c
    assert RecurrentState.from_hidden((h, c)).c is c
    plain = make_state(with_cell=False)
    assert plain.as_tuple() is plain.h
    assert RecurrentState.from_hidden(plain.h).c is None


def test_detach_cuts_the_graph():
    h = torch.zeros(1, 2, 3, requires_grad=True)
    state = RecurrentState(h * 2, h * 3).detach()
    assert not state.h.requires_grad and not state.c.requires_grad


def test_layers_and_concat_round_trip():
    state = make_state()
    parts = [state.layers(0, 1), state.layers(1, 2)]
    assert parts[0].h.shape == (1, 3, 4)
    joined = RecurrentState.concat(parts)
    assert torch.equal(joined.h, state.h) and torch.equal(joined.c, state.c)
    assert state.batch_size == 3 and state.num_layers == 2
