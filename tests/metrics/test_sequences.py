"""Seq2seq metrics on hand-computable cases."""

from __future__ import annotations

import pytest

from seqlab.errors import ConfigError, DataError
from seqlab.metrics.sequences import (
    bleu,
    chrf,
    default_edges,
    error_rate,
    exact_match,
    length_buckets,
    length_ratio,
    repeated_ngram_rate,
    rouge,
)

SENTENCES = ["the cat sat on the mat", "a dog ran in the park today"]


def test_bleu_of_identical_text_is_100_with_signature():
    score, signature = bleu(SENTENCES, SENTENCES)
    assert score == pytest.approx(100.0)
    assert "tok:13a" in signature and "nrefs:1" in signature and "version:" in signature


def test_bleu_of_disjoint_text_is_0_and_tokenizer_reaches_signature():
    score, signature = bleu(["x y z w"], ["a b c d"], tokenize="char")
    assert score == pytest.approx(0.0)
    assert "tok:char" in signature


def test_bleu_known_value_without_brevity_penalty():
    # hyp "a b c d e", ref "a b c d f": precisions 4/5, 3/4, 2/3, 1/2, same length -> BP = 1
    score, _ = bleu(["a b c d e"], ["a b c d f"])
    expected = 100 * (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert score == pytest.approx(expected, rel=1e-6)


def test_bleu_max_order_is_cumulative_up_to_that_order():
    # hyp "a b c d e", ref "a b c d f": precisions 4/5 and 3/4, same length -> BP = 1
    one, signature = bleu(["a b c d e"], ["a b c d f"], max_order=1)
    two, _ = bleu(["a b c d e"], ["a b c d f"], max_order=2)
    assert one == pytest.approx(100 * 4 / 5, rel=1e-6)
    assert two == pytest.approx(100 * (4 / 5 * 3 / 4) ** 0.5, rel=1e-6)
    assert signature.endswith("|ngram:1") and "ngram" not in bleu(["a"], ["a"])[1]
    with pytest.raises(ConfigError, match="max_order"):
        bleu(["a"], ["a"], max_order=0)


def test_bleu_rejects_unknown_tokenizer_naming_the_choices():
    with pytest.raises(ConfigError, match="13a"):
        bleu(["a"], ["a"], tokenize="nope")


def test_chrf_identical_is_100_and_partial_is_between():
    assert chrf(SENTENCES, SENTENCES)[0] == pytest.approx(100.0)
    partial, signature = chrf(["the cat sat"], ["the cat sits"])
    assert 0 < partial < 100
    assert "nc:6" in signature
    assert "nw:2" in chrf(["the cat sat"], ["the cat sits"], word_order=2)[1]


def test_rouge_known_unigram_and_bigram_f_measures():
    # hyp "the cat sat", ref "the cat ran": 2 of 3 unigrams match, 1 of 2 bigrams, LCS 2
    scores = rouge(["the cat sat"], ["the cat ran"], use_stemmer=False)
    assert scores["rouge1"] == pytest.approx(100 * 2 / 3)
    assert scores["rouge2"] == pytest.approx(50.0)
    assert scores["rougeL"] == pytest.approx(100 * 2 / 3)


def test_rouge_averages_over_pairs_and_custom_tokenizer_handles_chinese():
    scores = rouge(["a b", "c d"], ["a b", "x y"], use_stemmer=False)
    assert scores["rouge1"] == pytest.approx(50.0)
    assert rouge(["猫坐在"], ["猫坐在"])["rouge1"] == 0.0  # rouge-score's tokenizer drops CJK
    assert rouge(["猫坐在"], ["猫坐着"], tokenize=list)["rouge1"] == pytest.approx(100 * 2 / 3)


def test_error_rate_counts_substitutions_insertions_deletions():
    # one substitution in 3 phonemes
    assert error_rate([["K", "AA1", "T"]], [["K", "AE1", "T"]]) == pytest.approx(100 / 3)
    # strings split on whitespace; one deletion (4 ref tokens) + one insertion (2 ref tokens) over 6
    assert error_rate(["a b c", "x y z"], ["a b c d", "x y"]) == pytest.approx(100 * 2 / 6)
    # insertions can push it past 100
    assert error_rate([["a", "b", "c"]], [["a"]]) == pytest.approx(200.0)


def test_error_rate_rejects_mismatch_and_empty_references():
    with pytest.raises(DataError, match="2 hypotheses but 1 references"):
        error_rate(["a", "b"], ["a"])
    with pytest.raises(DataError, match="empty"):
        error_rate(["a"], [""])
    with pytest.raises(DataError, match="empty input"):
        error_rate([], [])


def test_exact_match_compares_tokens():
    assert exact_match(["K AE1 T", "D AO1 G", "B"], ["K  AE1 T", "D AA1 G", "B"]) == pytest.approx(200 / 3)
    assert exact_match([["a"]], [["a"]]) == 100.0


def test_repeated_ngram_rate_of_crafted_outputs():
    assert repeated_ngram_rate(["a b a b a"], n=2) == pytest.approx(0.5)
    # 3 unigrams of "x x x": the 2nd and 3rd repeat; "y z" has none; total 2 of 5
    assert repeated_ngram_rate([["x", "x", "x"], ["y", "z"]], n=1) == pytest.approx(2 / 5)
    # repeats across different outputs do not count
    assert repeated_ngram_rate(["a b c", "a b c"], n=3) == 0.0
    assert repeated_ngram_rate(["a"], n=3) == 0.0
    with pytest.raises(ConfigError):
        repeated_ngram_rate(["a"], n=0)


def test_length_ratio_is_total_over_total():
    assert length_ratio(["a b", "c d e f"], ["a b c", "d e f"]) == pytest.approx(1.0)
    assert length_ratio([["a"]], [["a", "b", "c", "d"]]) == pytest.approx(0.25)


def test_length_buckets_rows_counts_and_scores():
    src_lengths = [3, 4, 12, 15, 40]
    hyps = ["a", "b", "c", "x", "e"]
    refs = ["a", "b", "c", "d", "e"]
    rows = length_buckets(src_lengths, hyps, refs, "exact_match", edges=[10, 20, 30])
    assert [r["label"] for r in rows] == ["0-9", "10-19", "20-29", "30+"]
    assert [r["count"] for r in rows] == [2, 2, 0, 1]
    assert [r["score"] for r in rows] == [100.0, 50.0, None, 100.0]
    assert rows[-1]["high"] is None and rows[0]["high"] == 9


def test_length_buckets_accepts_callables_returning_a_signature_tuple():
    rows = length_buckets([1, 2], SENTENCES, SENTENCES, bleu, edges=[2])
    assert [r["score"] for r in rows] == [pytest.approx(100.0), pytest.approx(100.0)]


def test_length_buckets_rejects_bad_edges_and_metric_names():
    with pytest.raises(ConfigError, match="strictly increasing"):
        length_buckets([1], ["a"], ["a"], "exact_match", edges=[5, 5])
    with pytest.raises(ConfigError, match="valid: bleu"):
        length_buckets([1], ["a"], ["a"], "accuracy")
    with pytest.raises(DataError, match="source lengths"):
        length_buckets([1, 2], ["a"], ["a"], "exact_match")


def test_default_edges_follow_quantiles():
    assert default_edges(list(range(1, 101)), buckets=4) == [26, 51, 76]
    rows = length_buckets(list(range(1, 101)), ["a"] * 100, ["a"] * 100, "exact_match")
    assert sum(r["count"] for r in rows) == 100
