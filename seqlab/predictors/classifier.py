"""A trained text classifier: label probabilities, attention explanations, sentence vectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqlab.config import ExperimentConfig, load_config
from seqlab.data.corpora.labelled import TextPipeline, read_eval_examples
from seqlab.data.readers.labelled import LabelledExample
from seqlab.errors import ConfigError
from seqlab.models.factory import build_model
from seqlab.predictors.common import Evaluation, check_pool, check_run, chunks, load_weights, score_labels
from seqlab.text.padding import pad_batch


@dataclass(frozen=True)
class ClassPrediction:
    """The predicted ``label`` of ``text`` and every label's probability (most likely first).

    With ``explain`` (attention pooling only), ``tokens`` and their attention ``weights`` (summing
    to one over the tokens the model read).
    """

    text: str
    label: str
    probabilities: dict[str, float]
    tokens: list[str] | None = None
    weights: list[float] | None = None

    def to_dict(self) -> dict:
        record = {"text": self.text, "label": self.label, "probabilities": self.probabilities}
        if self.tokens is not None:
            record["attention"] = [[t, w] for t, w in zip(self.tokens, self.weights or [])]
        return record


class ClassifierPredictor:
    """``seqlab.load(run_dir)`` for a classifier run."""

    def __init__(self, run_dir: str | Path, device: str = "cpu", verify: bool = True) -> None:
        """Load ``run_dir``, its files checked against its manifests unless ``verify`` is False."""
        self.run_dir = Path(run_dir)
        check_run(self.run_dir, verify)
        self.config: ExperimentConfig = load_config(self.run_dir / "config.yaml")
        self.pipeline = TextPipeline.load(self.run_dir)
        self.device = torch.device(device)
        self.model = build_model(self.config, len(self.pipeline.vocab), len(self.pipeline.labels))
        load_weights(self.run_dir, self.model)
        self.model.to(self.device).eval()

    @property
    def labels(self) -> list[str]:
        return list(self.pipeline.labels)

    def _batch(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = [self.pipeline.text_ids(t, self.config.data.max_length) for t in texts]
        tokens, lengths = pad_batch(ids, self.pipeline.vocab.pad_id)
        return tokens.to(self.device), lengths

    def _tokens(self, text: str) -> list[str]:
        tokens = self.pipeline.tokenizer.tokenize(text)[: self.config.data.max_length]
        return tokens or ["<unk>"]

    @torch.no_grad()
    def predict(
        self, texts: str | Sequence[str], explain: bool = False, batch_size: int = 64
    ) -> ClassPrediction | list[ClassPrediction]:
        """Predict one text (returns one :class:`ClassPrediction`) or a list of texts (a list).

        ``explain`` adds each token's attention weight (needs a model trained with
        ``pooling: attention``).
        """
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        if explain and self.model.attention is None:
            raise ConfigError(
                f"--explain needs attention pooling; this model pools with {self.model.pooling!r} "
                "(train with model.pooling: attention)"
            )
        results = []
        for chunk in chunks(items, batch_size):
            tokens, lengths = self._batch(chunk)
            logits, weights = self.model.forward_with_attention(tokens, lengths)
            probs = torch.softmax(logits.float(), dim=-1).cpu().tolist()
            for row, text in enumerate(chunk):
                ranked = sorted(zip(self.labels, probs[row]), key=lambda item: -item[1])
                explanation = {}
                if explain:
                    n = int(lengths[row])
                    explanation = {"tokens": self._tokens(text), "weights": weights[row, :n].cpu().tolist()}
                results.append(ClassPrediction(text, ranked[0][0], dict(ranked), **explanation))
        return results[0] if single else results

    @torch.no_grad()
    def encode(self, texts: Sequence[str], pool: str = "mean", batch_size: int = 64) -> np.ndarray:
        """Sentence vectors float32 [N, D] from the classifier's (bi)LSTM states, pooled over real
        tokens with ``pool`` ('mean', 'max', 'last' or, with attention pooling, 'attention')."""
        check_pool(pool, ("mean", "max", "last", "attention"))
        parts = []
        for chunk in chunks(list(texts), batch_size):
            tokens, lengths = self._batch(chunk)
            parts.append(self.model.encode(tokens, lengths, pool).float().cpu().numpy())
        return np.concatenate(parts) if parts else np.zeros((0, self.model.output_size), np.float32)

    def evaluate(self, data: str | Path | Sequence[LabelledExample], batch_size: int = 64) -> Evaluation:
        """Accuracy, macro-F1, per-class scores and confusion matrix on a labelled file (read in
        the run's format) or on examples."""
        examples = read_eval_examples(self.config, data) if isinstance(data, str | Path) else list(data)
        self.pipeline.labels.check(examples, "the evaluation data", self.config.data.on_error)
        predictions = self.predict([e.text for e in examples], batch_size=batch_size)
        return score_labels(
            [e.label for e in examples], [p.label for p in predictions], self.labels, "examples"
        )
