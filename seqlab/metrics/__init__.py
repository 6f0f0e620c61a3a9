"""Metrics on plain Python sequences; nothing here imports seqlab.

- :mod:`~seqlab.metrics.labels`: accuracy, precision/recall/F1, confusion matrix, token accuracy,
  BIO span F1, perplexity (classifiers, taggers, language models);
- :mod:`~seqlab.metrics.sequences`: BLEU, chrF, ROUGE (sacrebleu, rouge-score), PER/WER, exact
  match, repetition and length ratio, quality by source length (Seq2Seq).

The label metrics are re-exported here, so ``from seqlab import metrics; metrics.accuracy(...)``
reads as before.
"""

from seqlab.metrics.labels import (
    Span,
    accuracy,
    bio_spans,
    confusion_matrix,
    perplexity,
    precision_recall_f1,
    span_f1,
    token_accuracy,
)

__all__ = [
    "Span",
    "accuracy",
    "bio_spans",
    "confusion_matrix",
    "perplexity",
    "precision_recall_f1",
    "span_f1",
    "token_accuracy",
]
