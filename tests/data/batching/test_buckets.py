import json
import random

import pytest

from seqlab.data.batching.buckets import TokenBudgetSampler


def make_lengths(n=500, seed=0):
    rng = random.Random(seed)
    return [rng.randint(1, 60) for _ in range(n)]


def test_budget_never_exceeded_and_every_example_once():
    lengths = make_lengths() + [300]  # one example longer than the budget
    sampler = TokenBudgetSampler(lengths, max_tokens=200, bucket_size=64)
    batches = list(sampler)
    for batch in batches:
        padded = max(lengths[i] for i in batch) * len(batch)
        assert padded <= 200 or len(batch) == 1
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert [len(lengths) - 1] in batches


def test_bucketing_reduces_padding():
    lengths = make_lengths()
    batches = list(TokenBudgetSampler(lengths, max_tokens=300, shuffle=False))
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    assert padded < 1.1 * sum(lengths)


def test_shuffle_deterministic_by_seed_and_epoch():
    lengths = make_lengths()

    def order(seed, epoch):
        sampler = TokenBudgetSampler(lengths, 250, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0, 0) == order(0, 0)
    assert order(0, 1) != order(0, 0)
    assert order(1, 0) != order(0, 0)


def test_resume_mid_epoch():
    lengths = make_lengths()
    full_sampler = TokenBudgetSampler(lengths, 250, seed=4)
    full_sampler.set_epoch(3)
    full = list(full_sampler)

    sampler = TokenBudgetSampler(lengths, 250, seed=4)
    sampler.set_epoch(3)
    head = []
    for batch in sampler:
        head.append(batch)
        if len(head) == 7:
            state = json.loads(json.dumps(sampler.state_dict()))
            break
    resumed = TokenBudgetSampler(lengths, 250, seed=4)
    resumed.load_state_dict(state)
    assert head + list(resumed) == full
    assert list(resumed) == full  # the next pass starts over


@pytest.mark.parametrize("drop_last", [False, True])
def test_ranks_get_equal_counts_and_cover_everything(drop_last):
    lengths = make_lengths(301)
    world = 4
    single = TokenBudgetSampler(lengths, 200, seed=2)
    total = len(list(single))
    per_rank = [
        list(TokenBudgetSampler(lengths, 200, seed=2, rank=r, world_size=world, drop_last=drop_last))
        for r in range(world)
    ]
    counts = {len(p) for p in per_rank}
    assert len(counts) == 1
    seen = [i for p in per_rank for b in p for i in b]
    if drop_last:
        assert counts.pop() == total // world
    else:
        assert counts.pop() == -(-total // world)
        assert set(seen) == set(range(len(lengths)))
    # ranks never hold the same batch position twice from the unpadded list
    first_batches = [p[0] for p in per_rank]
    assert len({tuple(b) for b in first_batches}) == world
