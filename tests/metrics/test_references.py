"""score_outputs scores each output against its closest reference; group_references keeps order."""

from dataclasses import dataclass

import pytest

from seqlab.errors import ConfigError
from seqlab.metrics.references import (
    DEFAULT_SCORES,
    DIALOGUE_SCORES,
    SCORE_NAMES,
    group_references,
    score_outputs,
)


@dataclass
class P:
    source: str
    target: str


def test_each_output_is_scored_against_its_closest_reference():
    hyps = [["K", "AE", "T"], ["D", "AO", "G"]]
    refs = [[["K", "AA", "T"], ["K", "AE", "T"]], [["D", "AA", "G"]]]
    scores, _, chosen = score_outputs(
        [" ".join(h) for h in hyps], hyps, [[" ".join(r) for r in rs] for rs in refs], refs, ("per", "wer")
    )
    assert chosen == [1, 0]
    assert scores["wer"] == pytest.approx(50.0)  # the first is exact against its second reference
    assert scores["per"] == pytest.approx(100 * 1 / 6)  # one substitution in six reference tokens
    assert set(scores) == {"per", "wer"}


def test_every_score_name_is_produced_when_asked_and_the_default_is_the_old_set():
    words = "the cat sat on the mat".split()
    args = ([" ".join(words)], [words], [[" ".join(words)]], [[words]])
    scores, signatures, _ = score_outputs(*args, SCORE_NAMES)
    assert set(scores) == set(SCORE_NAMES)
    assert scores["bleu"] == pytest.approx(100.0) and scores["exact_match"] == 100.0
    assert scores["bleu1"] == pytest.approx(100.0) and scores["bleu2"] == pytest.approx(100.0)
    assert set(signatures) == {"bleu", "bleu1", "bleu2", "chrf"}
    assert signatures["bleu2"].endswith("|ngram:2")
    assert set(score_outputs(*args)[0]) == set(DEFAULT_SCORES)


def test_dialogue_scores_count_the_output_tokens():
    hyps = [["i", "don't", "know"], ["i", "don't", "know"], ["sure", "thing"]]
    refs = [[["i", "know"]], [["no"]], [["sure", "thing"]]]
    scores, _, _ = score_outputs(
        [" ".join(h) for h in hyps], hyps, [[" ".join(r) for r in rs] for rs in refs], refs, DIALOGUE_SCORES
    )
    assert scores["distinct1"] == pytest.approx(100 * 5 / 8)  # i, don't, know twice; sure, thing
    assert scores["distinct2"] == pytest.approx(100 * 3 / 5)  # i-don't, don't-know twice; sure-thing
    assert scores["frequent_share"] == pytest.approx(100.0)  # two different outputs, both in the top ten
    assert 0 < scores["bleu2"] < scores["bleu1"] < 100


def test_an_unknown_score_name_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="distinct3.*valid: bleu"):
        score_outputs(["a"], [["a"]], [["a"]], [[["a"]]], ("distinct3",))


def test_group_references_groups_by_source_in_first_seen_order():
    grouped = group_references([P("b", "1"), P("a", "2"), P("b", "3")])
    assert list(grouped.items()) == [("b", ["1", "3"]), ("a", ["2"])]
