"""The set-level dialogue metrics under resampling: every resample scores what distinct-n and the
frequent-answer share give on the resampled outputs themselves."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.compare.set_metrics import SET_METRICS, set_scores, set_stats
from seqlab.metrics import dialogue

OUTPUTS = [["i", "do", "not", "know"], ["i", "do", "not", "know"], ["ok"], [], ["see", "you", "later"]]


def direct(metric, outputs):
    if metric == "frequent_share":
        return dialogue.frequent_share(outputs)
    return dialogue.distinct_n(outputs, SET_METRICS[metric])


@pytest.mark.parametrize("metric", sorted(SET_METRICS))
def test_every_pair_drawn_once_gives_the_metric(metric):
    stats = set_stats(metric, OUTPUTS)
    assert set_scores(metric, stats, np.ones((1, len(OUTPUTS))))[0] == pytest.approx(direct(metric, OUTPUTS))


def test_a_pair_drawn_twice_adds_n_grams_but_no_different_one():
    stats = set_stats("distinct1", OUTPUTS)
    counts = np.array([[0, 0, 2, 0, 0]])  # "ok" twice: 1 different unigram of 2
    assert set_scores("distinct1", stats, counts)[0] == pytest.approx(50.0)
    assert set_scores("frequent_share", set_stats("frequent_share", OUTPUTS), counts)[0] == 100.0


outputs_strategy = st.lists(st.lists(st.sampled_from("abcd"), max_size=4), min_size=1, max_size=15)


@settings(max_examples=60, deadline=None)
@given(outputs=outputs_strategy, data=st.data(), metric=st.sampled_from(sorted(SET_METRICS)))
def test_any_resample_scores_the_resampled_outputs(outputs, data, metric):
    draws = data.draw(
        st.lists(st.integers(0, len(outputs) - 1), min_size=len(outputs), max_size=len(outputs))
    )
    counts = np.bincount(draws, minlength=len(outputs))[None, :].astype(float)
    resampled = [outputs[i] for i in draws]
    got = set_scores(metric, set_stats(metric, outputs), counts)[0]
    assert got == pytest.approx(direct(metric, resampled))


def test_the_verdict_interval_of_distinct_2_separates_varied_from_dull_outputs():
    from synthetic_results import contender, make_results

    from seqlab.compare import bootstrap

    varied = [[f"w{i}", f"x{i}", "ok"] for i in range(30)]
    dull = [["i", "do", "not", "know"]] * 25 + varied[:5]
    results = make_results()
    results["metric"] = {"name": "distinct2", "mode": "max", "label": "distinct-2 %"}
    results["contenders"] = [contender("s2s_none", 0.0), contender("s2s_luong", 0.0)]
    for entry, outputs in zip(results["contenders"], (dull, varied)):
        entry["quality"] = entry["metrics"]["distinct2"] = dialogue.distinct_n(outputs, 2)
        entry["per_example"] = {"metric": "distinct2", "pairs": "p", "stats": set_stats("distinct2", outputs)}
    interval = bootstrap.quality_interval(results, "s2s_luong", "s2s_none")
    assert interval.reason is None and interval.clear
    # varied: 60 bigrams, all different; dull: 85 bigrams, 13 different (3 of "i do not know")
    assert interval.low > 0 and interval.difference == pytest.approx(100.0 - 100.0 * 13 / 85)
