import json

import pytest
import torch

from seqlab.data.batching.bptt import BPTTBatcher, LMBatch
from seqlab.errors import ConfigError, DataError


def collect(batcher):
    return [(b.inputs.clone(), b.targets.clone(), b.reset) for b in batcher]


def assert_same(left, right):
    assert len(left) == len(right)
    for (xi, xt, xr), (yi, yt, yr) in zip(left, right):
        assert torch.equal(xi, yi) and torch.equal(xt, yt) and xr == yr


def test_fixed_windows_match_batchify():
    ids = torch.arange(103)
    batcher = BPTTBatcher(ids, batch_size=4, bptt=5)
    streams = ids[:100].view(4, 25)  # remainder of 3 dropped
    batches = list(batcher)
    assert len(batches) == len(batcher) == 5  # 24 predicted positions per stream: 5+5+5+5+4
    assert torch.equal(batches[0].inputs, streams[:, 0:5])
    assert torch.equal(batches[0].targets, streams[:, 1:6])
    assert torch.equal(batches[-1].inputs, streams[:, 20:24])
    assert torch.equal(batches[-1].targets, streams[:, 21:25])
    assert [b.reset for b in batches] == [True, False, False, False, False]
    assert batches[0].num_tokens == 20
    # targets continue the inputs: every window is the next slice of each stream
    assert torch.equal(torch.cat([b.inputs for b in batches], dim=1), streams[:, :24])


def test_lmbatch_to():
    batch = LMBatch(torch.zeros(2, 3, dtype=torch.long), torch.ones(2, 3, dtype=torch.long), True)
    moved = batch.to("cpu")
    assert moved.reset and moved.inputs.shape == (2, 3)


@pytest.mark.parametrize("variable", [False, True])
def test_resume_mid_epoch_equals_uninterrupted(variable):
    ids = torch.randint(0, 50, (2000,), generator=torch.Generator().manual_seed(0))
    reference = BPTTBatcher(ids, 8, 7, variable=variable, seed=3)
    reference.set_epoch(2)
    full = collect(reference)

    first = BPTTBatcher(ids, 8, 7, variable=variable, seed=3)
    first.set_epoch(2)
    half = len(full) // 2
    seen = []
    for batch in first:
        seen.append((batch.inputs.clone(), batch.targets.clone(), batch.reset))
        if len(seen) == half:
            state = json.loads(json.dumps(first.state_dict()))
            break
    assert state["epoch"] == 2 and state["position"] == half

    resumed = BPTTBatcher(ids, 8, 7, variable=variable, seed=3)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)  # setting the same epoch keeps the position
    rest = collect(resumed)
    assert_same(seen + rest, full)
    assert not rest[0][2]  # resuming mid-epoch does not reset the hidden state
    # a finished pass rewinds: iterating again gives the whole epoch
    assert_same(collect(resumed), full)


def test_rank_sharding_union_equals_single_process():
    ids = torch.arange(1000)
    single = list(BPTTBatcher(ids, 6, 9))
    shards = [list(BPTTBatcher(ids, 6, 9, rank=r, world_size=3)) for r in range(3)]
    assert all(len(s) == len(single) for s in shards)
    for step, batch in enumerate(single):
        merged = torch.cat([shard[step].inputs for shard in shards], dim=0)
        assert torch.equal(merged, batch.inputs)
        assert shards[1][step].inputs.shape[0] == 2


def test_variable_bptt_deterministic_and_epoch_dependent():
    ids = torch.arange(5000)

    def lengths(seed, epoch):
        batcher = BPTTBatcher(ids, 4, 20, variable=True, seed=seed)
        batcher.set_epoch(epoch)
        return [b.inputs.shape[1] for b in batcher]

    torch.manual_seed(123)
    a = lengths(0, 1)
    torch.manual_seed(999)  # the global RNG must not matter
    assert lengths(0, 1) == a
    assert lengths(0, 2) != a
    assert lengths(1, 1) != a
    assert min(a[:-1]) >= 5
    assert len(set(a)) > 3
    assert sum(a) == 5000 // 4 - 1


def test_invalid_arguments():
    with pytest.raises(ConfigError, match="divisible"):
        BPTTBatcher(torch.arange(100), 5, 3, rank=0, world_size=2)
    with pytest.raises(DataError, match="too few"):
        BPTTBatcher(torch.arange(5), 4, 3)
    batcher = BPTTBatcher(torch.arange(100), 2, 3)
    state = batcher.state_dict()
    with pytest.raises(DataError, match="bptt"):
        BPTTBatcher(torch.arange(100), 2, 4).load_state_dict(state)
