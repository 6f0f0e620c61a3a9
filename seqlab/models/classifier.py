"""An LSTM text classifier: embedding -> dropout -> (bi)LSTM -> pooling -> dropout -> linear.

The recurrent stack runs on packed sequences (:func:`seqlab.models.packed.run_packed`) and every
pooling mode looks at real tokens only, so padding never changes a prediction: a text gives the
same probabilities alone and inside a padded batch.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.errors import ConfigError
from seqlab.models.packed import build_stack, check_positive, check_probability, run_packed
from seqlab.models.pooling import POOLING_MODES, AttentionPooling, pool

CLASSIFIER_POOLING = (*POOLING_MODES, "attention")


class TextClassifier(nn.Module):
    """Sequence classifier over token ids.

    Args:
        vocab_size: number of token ids.
        num_classes: C, number of labels.
        embedding_size, hidden_size, num_layers: sizes of the embedding and recurrent stack.
        bidirectional: run a forward and a backward stack (vectors are 2 * hidden_size wide).
        cell: 'lstm', 'gru' or 'rnn_tanh'.
        dropout: on the embeddings, between layers and before the output layer.
        pooling: 'last', 'mean', 'max' or 'attention' (see :mod:`seqlab.models.pooling`).
        pad_id: the padding id (its embedding stays zero).
        class_weights: FloatTensor[C] weighting the training loss, or None.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        *,
        embedding_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = True,
        cell: str = "lstm",
        dropout: float = 0.0,
        pooling: str = "last",
        pad_id: int = 0,
        class_weights: Tensor | None = None,
    ) -> None:
        super().__init__()
        check_positive(vocab_size=vocab_size, num_classes=num_classes, embedding_size=embedding_size)
        check_probability("dropout", dropout)
        if pooling not in CLASSIFIER_POOLING:
            raise ConfigError(f"pooling = {pooling!r}: must be one of {', '.join(CLASSIFIER_POOLING)}")
        if not 0 <= pad_id < vocab_size:
            raise ConfigError(f"pad_id = {pad_id}: must be in [0, vocab_size = {vocab_size})")
        self.num_classes = num_classes
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.pad_id = pad_id
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        self.recurrent = build_stack(cell, embedding_size, hidden_size, num_layers, dropout, bidirectional)
        self.output_size = hidden_size * (2 if bidirectional else 1)
        self.attention = AttentionPooling(self.output_size) if pooling == "attention" else None
        self.output = nn.Linear(self.output_size, num_classes)
        if class_weights is not None:
            class_weights = torch.as_tensor(class_weights, dtype=torch.float32)
            if class_weights.shape != (num_classes,) or bool((class_weights < 0).any()):
                raise ConfigError(
                    f"class_weights: need {num_classes} non-negative values, got shape "
                    f"{tuple(class_weights.shape)}"
                )
        # Not persistent: weights belong to the training recipe, not to the saved model.
        self.register_buffer("class_weights", class_weights, persistent=False)

    # ------------------------------------------------------------------------------------------
    # Forward
    # ------------------------------------------------------------------------------------------

    def states(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens: LongTensor[B, T] right-padded; lengths: LongTensor[B].

        Returns the last layer's states [B, T, D] (D = output_size; zeros at padding).
        """
        x = self.dropout(self.embedding(tokens))
        outputs, _ = run_packed(self.recurrent, x, lengths)
        return outputs

    def _pool(self, outputs: Tensor, lengths: Tensor, mode: str) -> tuple[Tensor, Tensor | None]:
        if mode == "attention":
            if self.attention is None:
                raise ConfigError(
                    "pool = 'attention' needs a model trained with pooling = 'attention'; "
                    f"choose one of {', '.join(POOLING_MODES)}"
                )
            return self.attention(outputs, lengths)
        return pool(outputs, lengths, mode, bidirectional=self.bidirectional), None

    def forward_with_attention(self, tokens: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        """tokens: LongTensor[B, T]; lengths: LongTensor[B].

        Returns logits [B, C] and the attention weights [B, T] (None unless pooling = 'attention').
        """
        outputs = self.states(tokens, lengths)
        pooled, weights = self._pool(outputs, lengths, self.pooling)
        return self.output(self.dropout(pooled)), weights

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens: LongTensor[B, T]; lengths: LongTensor[B]. Returns logits [B, C]."""
        return self.forward_with_attention(tokens, lengths)[0]

    @torch.no_grad()
    def encode(self, tokens: Tensor, lengths: Tensor, pool: str | None = None) -> Tensor:
        """Sentence vectors [B, D] from the recurrent states, pooled with ``pool``.

        ``pool``: 'last', 'mean', 'max' or 'attention' (the model's own pooling when None).
        """
        outputs = self.states(tokens, lengths)
        return self._pool(outputs, lengths, pool or self.pooling)[0]

    # ------------------------------------------------------------------------------------------
    # Training interface
    # ------------------------------------------------------------------------------------------

    def loss(self, batch: Any) -> tuple[Tensor, dict[str, float]]:
        """Mean cross-entropy of ``batch`` (``.tokens`` [B, T], ``.lengths`` [B], ``.labels`` [B]).

        With ``class_weights`` the loss is the weighted mean (``F.cross_entropy``'s convention).
        Stats ``{"correct", "examples", "nll_sum"}`` are unweighted, so validation losses stay
        comparable whatever the weights.
        """
        logits = self(batch.tokens, batch.lengths).float()
        labels = batch.labels.to(logits.device)
        loss = F.cross_entropy(logits, labels, weight=self.class_weights)
        nll_sum = F.cross_entropy(logits.detach(), labels, reduction="sum")
        correct = (logits.detach().argmax(dim=-1) == labels).sum()
        return loss, {
            "correct": float(correct),
            "examples": float(labels.numel()),
            "nll_sum": float(nll_sum),
        }

    @staticmethod
    def summarize(stats_sum: dict[str, float]) -> dict[str, float]:
        """Summed stats -> ``{"loss": nll per example, "accuracy": fraction correct}`` (nan if empty)."""
        examples = stats_sum.get("examples", 0.0)
        if examples <= 0:
            return {"loss": math.nan, "accuracy": math.nan}
        return {"loss": stats_sum["nll_sum"] / examples, "accuracy": stats_sum["correct"] / examples}

    @torch.no_grad()
    def predict_proba(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """Class probabilities [B, C]."""
        return torch.softmax(self(tokens, lengths).float(), dim=-1)

    def num_parameters(self) -> int:
        """Number of trainable values."""
        return sum(p.numel() for p in self.parameters())
