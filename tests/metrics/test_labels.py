import ast
import math
from pathlib import Path

import pytest

from seqlab.metrics.labels import (
    accuracy,
    bio_spans,
    confusion_matrix,
    perplexity,
    precision_recall_f1,
    span_f1,
    token_accuracy,
)


def test_metrics_imports_nothing_of_seqlab():
    import seqlab.metrics.labels as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [name for name in imported if name.startswith("seqlab")]


def test_accuracy_and_length_mismatch():
    assert accuracy(["a", "b", "a", "c"], ["a", "a", "a", "c"]) == 0.75
    with pytest.raises(ValueError, match="differ in length"):
        accuracy(["a"], ["a", "b"])
    with pytest.raises(ValueError):
        accuracy([], [])


def test_confusion_matrix_rows_gold_columns_pred():
    gold = ["cat", "cat", "dog", "dog", "dog", "bird"]
    pred = ["cat", "dog", "dog", "dog", "cat", "cat"]
    assert confusion_matrix(gold, pred, ["cat", "dog", "bird"]) == [[1, 1, 0], [1, 2, 0], [1, 0, 0]]
    with pytest.raises(ValueError, match="pred label 'fish' at position 0"):
        confusion_matrix(["cat"], ["fish"], ["cat", "dog"])


def test_precision_recall_f1_by_hand_with_a_class_never_predicted():
    gold = ["cat", "cat", "dog", "dog", "dog", "bird"]
    pred = ["cat", "dog", "dog", "dog", "cat", "cat"]
    scores = precision_recall_f1(gold, pred, ["cat", "dog", "bird"])
    cat, dog, bird = (scores["per_class"][k] for k in ("cat", "dog", "bird"))
    # cat: predicted 3, correct 1, support 2 -> P 1/3, R 1/2, F1 0.4
    assert cat["precision"] == pytest.approx(1 / 3) and cat["recall"] == 0.5
    assert cat["f1"] == pytest.approx(0.4) and cat["support"] == 2
    # dog: predicted 3, correct 2, support 3 -> P 2/3, R 2/3, F1 2/3
    assert dog["f1"] == pytest.approx(2 / 3)
    # bird: never predicted -> P 0, R 0, F1 0, no crash
    assert bird == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["macro"]["f1"] == pytest.approx((0.4 + 2 / 3 + 0) / 3)
    assert scores["macro"]["precision"] == pytest.approx((1 / 3 + 2 / 3) / 3)
    # every label listed: micro P = R = F1 = accuracy = 3/6
    assert scores["micro"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5})


def test_token_accuracy():
    gold = [["DT", "NN"], ["VB"], []]
    pred = [["DT", "VB"], ["VB"], []]
    assert token_accuracy(gold, pred) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="sequence 1"):
        token_accuracy(gold, [["DT", "VB"], [], []])
    with pytest.raises(ValueError):
        token_accuracy([[]], [[]])


def test_bio_spans_and_iob1_tolerant_start():
    assert bio_spans(["B-PER", "I-PER", "O", "B-LOC"]) == {("PER", 0, 2), ("LOC", 3, 4)}
    # I- without a preceding B- starts a span (conlleval), also right after O or another type
    assert bio_spans(["I-PER", "I-PER", "O", "I-LOC"]) == {("PER", 0, 2), ("LOC", 3, 4)}
    assert bio_spans(["B-PER", "I-LOC", "I-LOC"]) == {("PER", 0, 1), ("LOC", 1, 3)}
    # B- after B- of the same type starts a new span
    assert bio_spans(["B-PER", "B-PER", "I-PER"]) == {("PER", 0, 1), ("PER", 1, 3)}
    assert bio_spans(["O", "O"]) == set() and bio_spans([]) == set()
    with pytest.raises(ValueError, match="'X-PER'"):
        bio_spans(["X-PER"])


def test_span_f1_partial_overlap_is_wrong():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "O", "O", "B-LOC"], ["I-ORG", "O"]]
    # gold spans: PER(0,2), LOC(3,4), ORG(0,1); pred: PER(0,1) (partial: wrong), LOC, ORG (IOB1 start)
    scores = span_f1(gold, pred)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert span_f1([["O"]], [["O"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    with pytest.raises(ValueError, match="differ in length"):
        span_f1(gold, pred[:1])


def test_perplexity():
    assert perplexity(0.0, 10) == 1.0
    assert perplexity(10 * math.log(50), 10) == pytest.approx(50)
    assert perplexity(1e6, 1) == math.inf
    with pytest.raises(ValueError):
        perplexity(1.0, 0)
