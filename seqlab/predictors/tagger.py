"""A trained sequence tagger: a tag for every word, contextual sentence vectors, evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from seqlab import metrics
from seqlab.config import ExperimentConfig, load_config
from seqlab.data.batching.labelled import EncodedTags, collate_tagging
from seqlab.data.corpora.labelled import TextPipeline, read_eval_examples
from seqlab.data.readers.tagged import TaggedSentence
from seqlab.errors import DataError
from seqlab.models.factory import build_model
from seqlab.predictors.common import Evaluation, check_pool, check_run, chunks, load_weights, score_labels


def looks_like_bio(tags: Sequence[str]) -> bool:
    """True when every tag is ``O``, ``B-X`` or ``I-X`` (and some are not ``O``)."""
    return any(t != "O" for t in tags) and all(t == "O" or t[:2] in ("B-", "I-") and len(t) > 2 for t in tags)


class TaggerPredictor:
    """``seqlab.load(run_dir)`` for a tagger run."""

    def __init__(self, run_dir: str | Path, device: str = "cpu", verify: bool = True) -> None:
        """Load ``run_dir``, its files checked against its manifests unless ``verify`` is False."""
        self.run_dir = Path(run_dir)
        check_run(self.run_dir, verify)
        self.config: ExperimentConfig = load_config(self.run_dir / "config.yaml")
        self.pipeline = TextPipeline.load(self.run_dir)
        chars = len(self.pipeline.chars) if self.pipeline.chars is not None else None
        self.device = torch.device(device)
        self.model = build_model(self.config, len(self.pipeline.vocab), len(self.pipeline.labels), chars)
        load_weights(self.run_dir, self.model)
        self.model.to(self.device).eval()

    @property
    def labels(self) -> list[str]:
        return list(self.pipeline.labels)

    def split(self, text: str) -> list[str]:
        """The words of ``text`` (whitespace for a word tokenizer, else the run's tokenizer)."""
        if self.pipeline.tokenizer.kind == "word":
            return text.split()
        return self.pipeline.tokenizer.tokenize(text)

    def _batch(self, sentences: Sequence[Sequence[str]]):  # noqa: ANN202 - a TaggingBatch
        examples = []
        for words in sentences:
            if not words:
                raise DataError("cannot tag an empty sentence")
            ids, chars = self.pipeline.word_ids(list(words)[: self.config.data.max_length])
            examples.append(EncodedTags(ids, [0] * len(ids), chars))
        return collate_tagging(examples, self.pipeline.vocab.pad_id).to(self.device)

    @torch.no_grad()
    def tag_words(self, sentences: Sequence[Sequence[str]], batch_size: int = 64) -> list[list[str]]:
        """One tag per word of each pre-split sentence (words past ``data.max_length`` get none)."""
        sentences = list(sentences)
        tags: list[list[str]] = [[] for _ in sentences]  # an empty sentence gets no tags
        present = [i for i, words in enumerate(sentences) if words]
        for chunk in chunks(present, batch_size):
            batch = self._batch([sentences[i] for i in chunk])
            rows = self.model.predict(batch.tokens, batch.lengths, batch.chars, batch.char_lengths)
            for index, row in zip(chunk, rows):
                tags[index] = [self.pipeline.labels.label(i) for i in row]
        return tags

    def predict(
        self, texts: str | Sequence[str], batch_size: int = 64
    ) -> list[tuple[str, str]] | list[list[tuple[str, str]]]:
        """``[(word, tag), ...]`` for one text, or a list of them for a list of texts."""
        single = isinstance(texts, str)
        sentences = [self.split(t) for t in ([texts] if single else texts)]
        tagged = [
            list(zip(words, tags)) for words, tags in zip(sentences, self.tag_words(sentences, batch_size))
        ]
        return tagged[0] if single else tagged

    @torch.no_grad()
    def encode(self, texts: Sequence[str], pool: str = "mean", batch_size: int = 64) -> np.ndarray:
        """Sentence vectors float32 [N, 2H]: the BiLSTM states pooled over real words."""
        check_pool(pool)
        parts = []
        for chunk in chunks([self.split(t) or ["<unk>"] for t in texts], batch_size):
            batch = self._batch(chunk)
            vectors = self.model.encode(batch.tokens, batch.lengths, batch.chars, batch.char_lengths, pool)
            parts.append(vectors.float().cpu().numpy())
        return np.concatenate(parts) if parts else np.zeros((0, self.model.output_size), np.float32)

    def evaluate(self, data: str | Path | Sequence[TaggedSentence], batch_size: int = 64) -> Evaluation:
        """Token accuracy, per-tag scores, macro-F1, confusion matrix and, for BIO tags, span F1."""
        sentences = read_eval_examples(self.config, data) if isinstance(data, str | Path) else list(data)
        gold = [s.tags[: self.config.data.max_length] for s in sentences]
        pred = self.tag_words([s.words for s in sentences], batch_size)
        flat_gold = [t for tags in gold for t in tags]
        flat_pred = [t for tags in pred for t in tags]
        result = score_labels(flat_gold, flat_pred, self.labels, "tokens")
        del result.summary["accuracy"]  # the same figure, named for what it counts:
        result.summary = {"token_accuracy": metrics.token_accuracy(gold, pred), **result.summary}
        if looks_like_bio(self.labels) and looks_like_bio(flat_gold):
            spans = metrics.span_f1(gold, pred)
            result.summary.update({f"span_{k}": v for k, v in spans.items()})
        return result
