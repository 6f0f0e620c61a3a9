"""score_outputs scores each output against its closest reference; group_references keeps order."""

from dataclasses import dataclass

import pytest

from seqlab.metrics.references import SCORE_NAMES, group_references, score_outputs


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


def test_every_score_name_is_produced_when_asked():
    words = "the cat sat on the mat".split()
    scores, signatures, _ = score_outputs([" ".join(words)], [words], [[" ".join(words)]], [[words]])
    assert set(scores) == set(SCORE_NAMES)
    assert scores["bleu"] == pytest.approx(100.0) and scores["exact_match"] == 100.0
    assert set(signatures) == {"bleu", "chrf"}


def test_group_references_groups_by_source_in_first_seen_order():
    grouped = group_references([P("b", "1"), P("a", "2"), P("b", "3")])
    assert list(grouped.items()) == [("b", ["1", "3"]), ("a", ["2"])]
