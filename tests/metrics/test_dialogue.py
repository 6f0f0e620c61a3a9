"""distinct-n and the frequent-output share on hand-computable cases, and their properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqlab.errors import ConfigError
from seqlab.metrics.dialogue import distinct_n, frequent_share


def test_distinct_counts_ngrams_over_all_outputs_together():
    assert distinct_n(["a b", "a c"], 1) == pytest.approx(75.0)  # a, b, a, c: 3 of 4 different
    assert distinct_n(["a b", "a b"], 2) == pytest.approx(50.0)  # ab twice: 1 of 2
    assert distinct_n([["a", "b", "a", "b"]], 2) == pytest.approx(100 * 2 / 3)  # ab, ba, ab


def test_distinct_ignores_outputs_shorter_than_n_and_is_zero_without_ngrams():
    assert distinct_n(["a", "b c"], 2) == pytest.approx(100.0)
    assert distinct_n(["a", ""], 2) == 0.0
    assert distinct_n([], 1) == 0.0


def test_distinct_rejects_a_bad_n():
    with pytest.raises(ConfigError, match="n >= 1"):
        distinct_n(["a"], 0)


def test_frequent_share_sums_the_ten_largest_counts():
    outputs = ["i don't know"] * 30 + [f"answer {i}" for i in range(70)]
    assert frequent_share(outputs) == pytest.approx(39.0)  # 30 + nine singletons
    assert frequent_share(["a", "a", "b"], top=1) == pytest.approx(100 * 2 / 3)
    assert frequent_share([]) == 0.0


def test_frequent_share_compares_tokens_so_spacing_does_not_matter():
    assert frequent_share(["a  b", ["a", "b"], "c"], top=1) == pytest.approx(100 * 2 / 3)


def test_frequent_share_rejects_a_bad_top():
    with pytest.raises(ConfigError, match="top >= 1"):
        frequent_share(["a"], top=0)


outputs = st.lists(st.lists(st.sampled_from("abcd"), max_size=5), max_size=30)


@given(outputs, st.integers(1, 3))
def test_distinct_is_a_percentage_above_zero_exactly_when_an_ngram_exists(items, n):
    value = distinct_n(items, n)
    assert 0.0 <= value <= 100.0
    has_grams = any(len(item) >= n for item in items)
    assert (value > 0) == has_grams


@given(outputs)
def test_frequent_share_is_100_with_at_most_ten_different_outputs(items):
    value = frequent_share(items)
    assert 0.0 <= value <= 100.0
    different = len({tuple(item) for item in items})
    if items and different <= 10:
        assert value == pytest.approx(100.0)
    if different > 10:
        assert value < 100.0
