import random

import pytest
from synthetic_results import two_contenders, with_pairs

from seqlab.compare import bootstrap
from seqlab.compare.measure import score
from seqlab.compare.report import verdict_table
from seqlab.compare.verdict import verdict, wins_by_contender
from seqlab.metrics import sequences as seq_metrics

REFS = ["K AE T", "D AO G", "B ER D", "F IH SH", "HH AO R S", "M AW S", "K AW", "G OW T"]
HYPS = ["K AE T", "D AA G", "B ER", "F IH SH IH", "HH AO S", "M AW S", "K AW K AW", "G OW T"]


def quality_row(results):
    return next(row for row in verdict(results) if row.criterion == "quality")


@pytest.mark.parametrize(
    "metric",
    ["per", "wer", "exact_match", "bleu", "chrf", "rouge_l", "bleu1", "bleu2", "distinct1", "distinct2"]
    + ["frequent_share"],
)
def test_statistics_of_all_pairs_give_the_corpus_score(metric):
    hyp_tokens, ref_tokens = [h.split() for h in HYPS], [r.split() for r in REFS]
    stats = bootstrap.example_stats(metric, HYPS, REFS, hyp_tokens, ref_tokens)
    assert len(stats) == len(REFS)
    expected = score(metric, HYPS, REFS, hyp_tokens, ref_tokens)
    assert bootstrap.corpus_score(metric, stats) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_the_identity_resample_of_per_is_the_corpus_per():
    import numpy as np

    hyp_tokens, ref_tokens = [h.split() for h in HYPS], [r.split() for r in REFS]
    stats = np.array(bootstrap.example_stats("per", HYPS, REFS, hyp_tokens, ref_tokens))
    ones = np.ones((1, len(REFS)))  # every pair drawn once
    resampled = bootstrap.score_totals("per", ones @ stats, ones.sum(axis=1))[0]
    assert resampled == pytest.approx(seq_metrics.error_rate(hyp_tokens, ref_tokens))
    # a resample that draws only the first pair twice scores that pair alone
    only_first = np.zeros((1, len(REFS)))
    only_first[0, 0] = 2
    assert bootstrap.score_totals("per", only_first @ stats, only_first.sum(axis=1))[0] == 0.0


def test_identical_outputs_give_no_clear_winner():
    edits = [random.Random(i).randint(0, 3) for i in range(60)]
    results = two_contenders(edits, edits, [4] * 60)
    row = quality_row(results)
    assert row.winners == ("s2s_none", "s2s_luong")  # a tie on the number itself
    assert row.interval.low <= 0.0 <= row.interval.high
    assert row.interval.clear is False and not row.clear
    assert "no clear winner" in verdict_table([row])[1][0][1]
    assert "quality" not in wins_by_contender(verdict(results)).get("s2s_none", [])


def test_a_small_difference_on_few_pairs_is_no_clear_winner():
    lengths = [4] * 20
    worse = [1] * 10 + [0] * 10
    better = [1] * 9 + [0] * 11  # one edit fewer in 80 reference tokens
    row = quality_row(two_contenders(worse, better, lengths))
    assert row.winners == ("s2s_luong",)
    assert row.interval.difference == pytest.approx(-100 / 80)
    assert row.interval.clear is False
    assert verdict_table([row])[1][0][1] == "no clear winner (s2s_luong ahead)"


def test_clearly_different_outputs_give_an_interval_that_excludes_zero():
    rng = random.Random(5)
    lengths = [5] * 200
    good = [rng.choice([0, 0, 0, 1]) for _ in lengths]
    bad = [rng.choice([2, 3, 4]) for _ in lengths]
    results = two_contenders(bad, good, lengths)
    row = quality_row(results)
    assert row.winners == ("s2s_luong",) and row.runner_up == "s2s_none"
    interval = row.interval
    assert (interval.first, interval.second) == ("s2s_luong", "s2s_none")
    assert interval.low < interval.difference < interval.high < 0  # PER: lower wins
    assert interval.clear is True and interval.resamples == 1000 and interval.pairs == 200
    assert interval.difference == pytest.approx(
        results["contenders"][1]["quality"] - results["contenders"][0]["quality"]
    )
    assert verdict_table([row])[1][0][1] == "s2s_luong"
    assert "quality" in wins_by_contender(verdict(results))["s2s_luong"]


def test_the_interval_is_seeded():
    rng = random.Random(1)
    lengths = [5] * 50
    a, b = [rng.randint(0, 3) for _ in lengths], [rng.randint(0, 3) for _ in lengths]
    first, again = quality_row(two_contenders(a, b, lengths)), quality_row(two_contenders(a, b, lengths))
    assert (first.interval.low, first.interval.high) == (again.interval.low, again.interval.high)
    other = two_contenders(a, b, lengths)
    other["seed"] = 2
    assert (quality_row(other).interval.low, quality_row(other).interval.high) != (
        first.interval.low,
        first.interval.high,
    )


def test_no_interval_without_matching_statistics():
    lengths = [4] * 30
    results = two_contenders([1] * 30, [0] * 30, lengths)
    results["contenders"][1]["quality"] = 50.0  # edited by hand: the statistics no longer agree
    row = quality_row(results)
    assert row.interval.low is None and "edited" in row.interval.reason
    assert row.clear  # no interval: the verdict stands on the numbers, and says why
    results = two_contenders([1] * 30, [0] * 30, lengths)
    del results["contenders"][0]["per_example"]  # results from before the bootstrap
    assert "no per-example statistics" in quality_row(results).interval.reason
    results = two_contenders([1] * 30, [0] * 30, lengths)
    results["contenders"][0]["per_example"]["pairs"] = "other"
    assert "different pairs" in quality_row(results).interval.reason


def test_seeds_are_strata_and_the_difference_is_the_mean_over_seeds():
    results = two_contenders([0] * 40, [0] * 40, [5] * 40)
    results["seeds"] = [1, 2]
    rng = random.Random(3)
    for contender, worse in zip(results["contenders"], (2, 0)):
        runs = []
        for seed in (1, 2):
            run = {"metrics": {}}
            with_pairs(run, [rng.randint(0, 1) + worse for _ in range(40)], [5] * 40)
            runs.append(
                {"seed": seed, "quality": run["quality"], "per_example": run["per_example"], "metrics": {}}
            )
        contender["seed_runs"] = runs
    row = quality_row(results)
    means = [sum(r["quality"] for r in c["seed_runs"]) / 2 for c in results["contenders"]]
    assert row.winners == ("s2s_luong",) and row.best == pytest.approx(means[1])
    assert row.interval.seeds == (1, 2) and row.interval.pairs == 80
    assert row.interval.difference == pytest.approx(means[1] - means[0])
    assert row.interval.clear is True
