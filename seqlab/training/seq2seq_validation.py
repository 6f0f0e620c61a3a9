"""Seq2Seq validation by decoding: the Trainer's ``extra_validation`` hook that decodes the
validation sources greedily (:func:`seqlab.decoding.batched.decode_ids`, as ``translate`` does) and
scores them (:func:`seqlab.metrics.references.score_outputs`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from seqlab.config import ExperimentConfig
from seqlab.data.readers.parallel import Pair
from seqlab.decoding.batched import decode_ids
from seqlab.decoding.options import SearchOptions
from seqlab.metrics.references import group_references, score_outputs


class DecodingValidator:
    """The Trainer's ``extra_validation`` hook: decode the validation sources greedily and score the
    outputs with ``metrics`` (names of :data:`SCORE_NAMES`).

    ``pipeline``: the run's :class:`~seqlab.data.corpora.seq2seq.Seq2SeqPipeline`; ``cfg``: the run's
    config (its ``decoding`` section bounds the lengths and sets the batch size).
    """

    def __init__(
        self, pairs: Sequence[Pair], pipeline: Any, cfg: ExperimentConfig, metrics: Sequence[str]
    ) -> None:
        grouped = group_references(pairs)
        self.pipeline = pipeline
        self.metrics = tuple(metrics)
        self.sources = [pipeline.source_ids(s) for s in grouped]
        self.copies = [pipeline.source_copy(s) for s in grouped] if cfg.model.copy_attention else None
        self.ref_texts = list(grouped.values())
        self.ref_tokens = [[pipeline.target_tokens(r) for r in refs] for refs in self.ref_texts]
        self.options = SearchOptions.from_config(cfg.decoding).greedy()
        self.batch_size = cfg.decoding.batch_size

    def __call__(self, model: nn.Module) -> dict[str, float]:
        copy_ids = None if self.copies is None else [c.ids for c in self.copies]
        found = decode_ids(model, self.sources, self.options, self.batch_size, copy_sources=copy_ids)
        vocab = self.pipeline.target_vocab
        if self.copies is None:
            tokens = [vocab.decode(hyps[0].tokens) for hyps in found]
        else:
            tokens = [copy.decode(hyps[0].tokens, vocab) for hyps, copy in zip(found, self.copies)]
        texts = [self.pipeline.target_text(t) for t in tokens]
        scores, _, _ = score_outputs(texts, tokens, self.ref_texts, self.ref_tokens, self.metrics)
        return scores
