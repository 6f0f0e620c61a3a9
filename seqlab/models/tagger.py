"""A BiLSTM sequence tagger (one label per token), with optional character-level word features.

word embedding [+ char BiLSTM per word] -> dropout -> BiLSTM (packed) -> dropout -> linear -> [B, T, K].

The character encoder reads each word's characters with a BiLSTM and concatenates its final forward
and backward states (Lample et al., 2016), so words unseen in training still get a useful vector.
Both recurrent stacks run on packed sequences: padding (of words or of characters) never changes a
tag.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.errors import ConfigError, DataError
from seqlab.models.packed import build_stack, check_positive, check_probability, run_packed
from seqlab.models.pooling import POOLING_MODES, padding_mask
from seqlab.models.pooling import pool as pool_states

IGNORE_INDEX = -100


class CharEncoder(nn.Module):
    """Character BiLSTM: each word's chars -> [final forward state | final backward state].

    Args:
        char_vocab_size: number of character ids; ``pad_id`` is the character padding id.
        embedding_size, hidden_size: sizes of the char embedding and of each direction.
    """

    def __init__(self, char_vocab_size: int, embedding_size: int, hidden_size: int, pad_id: int = 0) -> None:
        super().__init__()
        check_positive(
            char_vocab_size=char_vocab_size, char_embedding_size=embedding_size, char_hidden_size=hidden_size
        )
        self.pad_id = pad_id
        self.embedding = nn.Embedding(char_vocab_size, embedding_size, padding_idx=pad_id)
        self.recurrent = build_stack("lstm", embedding_size, hidden_size, 1, 0.0, bidirectional=True)
        self.output_size = 2 * hidden_size

    def forward(self, chars: Tensor, char_lengths: Tensor) -> Tensor:
        """chars: LongTensor[B, T, W] right-padded; char_lengths: LongTensor[B, T] (0 at padding words).

        Returns [B, T, 2 * char_hidden]: zeros for words with no characters (padding positions).
        """
        batch, steps, width = chars.shape
        flat_chars = chars.reshape(batch * steps, width)
        flat_lengths = char_lengths.reshape(batch * steps).to(chars.device)
        present = (flat_lengths > 0).nonzero(as_tuple=True)[0]
        out = self.embedding.weight.new_zeros(batch * steps, self.output_size)
        if present.numel():
            x = self.embedding(flat_chars[present])
            _, final = run_packed(self.recurrent, x, flat_lengths[present])  # [2, N, Hc]
            out = out.index_copy(0, present, torch.cat([final[0], final[1]], dim=-1))
        return out.view(batch, steps, self.output_size)


class SequenceTagger(nn.Module):
    """Token-level tagger over token ids (POS, NER, chunking...).

    Args:
        vocab_size: number of word ids; num_tags: K, number of tags.
        embedding_size, hidden_size, num_layers, cell: word embedding and the bidirectional stack.
        dropout: on the token representations, between layers and before the output layer.
        pad_id: word padding id (also the character padding id).
        char_vocab_size: enables the character BiLSTM when given.
        char_embedding_size, char_hidden_size: its sizes.
    """

    def __init__(
        self,
        vocab_size: int,
        num_tags: int,
        *,
        embedding_size: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
        pad_id: int = 0,
        char_vocab_size: int | None = None,
        char_embedding_size: int = 25,
        char_hidden_size: int = 25,
    ) -> None:
        super().__init__()
        check_positive(vocab_size=vocab_size, num_tags=num_tags, embedding_size=embedding_size)
        check_probability("dropout", dropout)
        if not 0 <= pad_id < vocab_size:
            raise ConfigError(f"pad_id = {pad_id}: must be in [0, vocab_size = {vocab_size})")
        self.num_tags = num_tags
        self.pad_id = pad_id
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=pad_id)
        self.char_encoder = (
            CharEncoder(char_vocab_size, char_embedding_size, char_hidden_size, pad_id)
            if char_vocab_size is not None
            else None
        )
        input_size = embedding_size + (self.char_encoder.output_size if self.char_encoder else 0)
        self.dropout = nn.Dropout(dropout)
        self.recurrent = build_stack(cell, input_size, hidden_size, num_layers, dropout, bidirectional=True)
        self.output_size = 2 * hidden_size
        self.output = nn.Linear(self.output_size, num_tags)

    # ------------------------------------------------------------------------------------------
    # Forward
    # ------------------------------------------------------------------------------------------

    def _char_inputs(self, chars: Tensor | None, char_lengths: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.char_encoder is None:
            raise ConfigError("character inputs given, but the tagger has no char_vocab_size")
        if chars is None:
            raise DataError("this tagger uses character features: the batch needs .chars [B, T, W]")
        if char_lengths is None:  # right padding: count the non-padding characters
            char_lengths = (chars != self.pad_id).sum(dim=-1)
        return chars, char_lengths

    def states(
        self, tokens: Tensor, lengths: Tensor, chars: Tensor | None = None, char_lengths: Tensor | None = None
    ) -> Tensor:
        """tokens: LongTensor[B, T]; lengths: LongTensor[B]; chars: LongTensor[B, T, W] and
        char_lengths: LongTensor[B, T] (needed iff the tagger has a char encoder; char_lengths is
        derived from ``chars != pad_id`` when None). Returns BiLSTM states [B, T, 2H] (0 at padding)."""
        x = self.embedding(tokens)
        if self.char_encoder is not None or chars is not None:
            chars, char_lengths = self._char_inputs(chars, char_lengths)
            x = torch.cat([x, self.char_encoder(chars, char_lengths)], dim=-1)
        outputs, _ = run_packed(self.recurrent, self.dropout(x), lengths)
        return outputs

    def forward(
        self, tokens: Tensor, lengths: Tensor, chars: Tensor | None = None, char_lengths: Tensor | None = None
    ) -> Tensor:
        """Per-token logits [B, T, K] (inputs as in :meth:`states`)."""
        return self.output(self.dropout(self.states(tokens, lengths, chars, char_lengths)))

    @torch.no_grad()
    def predict(
        self, tokens: Tensor, lengths: Tensor, chars: Tensor | None = None, char_lengths: Tensor | None = None
    ) -> list[list[int]]:
        """The most likely tag id of every real token: one list of ``lengths[b]`` ids per row."""
        best = self(tokens, lengths, chars, char_lengths).argmax(dim=-1).tolist()
        return [row[:length] for row, length in zip(best, lengths.tolist())]

    @torch.no_grad()
    def encode(
        self,
        tokens: Tensor,
        lengths: Tensor,
        chars: Tensor | None = None,
        char_lengths: Tensor | None = None,
        pool: str | None = None,
    ) -> Tensor:
        """Contextual vectors: per token [B, T, 2H] when ``pool`` is None, else one per sentence
        [B, 2H] when ``pool`` is 'last', 'mean' or 'max' (over real tokens)."""
        outputs = self.states(tokens, lengths, chars, char_lengths)
        if pool is None:
            return outputs
        if pool not in POOLING_MODES:
            raise ConfigError(f"pool = {pool!r}: must be one of {', '.join(POOLING_MODES)} or None")
        return pool_states(outputs, lengths, pool, bidirectional=True)

    # ------------------------------------------------------------------------------------------
    # Training interface
    # ------------------------------------------------------------------------------------------

    def loss(self, batch: Any) -> tuple[Tensor, dict[str, float]]:
        """Mean cross-entropy per real token of ``batch``.

        batch: ``.tokens`` [B, T], ``.lengths`` [B], ``.tags`` [B, T] (values at padding are ignored,
        whatever they are), optional ``.chars`` [B, T, W] and ``.char_lengths`` [B, T].
        Stats: ``{"correct", "tokens", "nll_sum"}`` over real tokens.
        """
        chars = getattr(batch, "chars", None)
        char_lengths = getattr(batch, "char_lengths", None)
        logits = self(batch.tokens, batch.lengths, chars, char_lengths).float()
        tags = batch.tags.to(logits.device)
        if tags.shape != logits.shape[:2]:
            raise DataError(f"tags have shape {tuple(tags.shape)}; tokens have {tuple(logits.shape[:2])}")
        mask = padding_mask(batch.lengths.to(logits.device), tags.shape[1])
        targets = tags.masked_fill(~mask, IGNORE_INDEX).reshape(-1)
        flat_logits = logits.reshape(-1, self.num_tags)
        nll_sum = F.cross_entropy(flat_logits, targets, ignore_index=IGNORE_INDEX, reduction="sum")
        tokens = int(mask.sum())
        loss = nll_sum / max(tokens, 1)
        correct = ((flat_logits.detach().argmax(dim=-1) == targets) & (targets != IGNORE_INDEX)).sum()
        return loss, {"correct": float(correct), "tokens": float(tokens), "nll_sum": float(nll_sum.detach())}

    @staticmethod
    def summarize(stats_sum: dict[str, float]) -> dict[str, float]:
        """Summed stats -> ``{"loss": nll per token, "accuracy": fraction of tokens tagged right}``."""
        tokens = stats_sum.get("tokens", 0.0)
        if tokens <= 0:
            return {"loss": math.nan, "accuracy": math.nan}
        return {"loss": stats_sum["nll_sum"] / tokens, "accuracy": stats_sum["correct"] / tokens}

    def num_parameters(self) -> int:
        """Number of trainable values."""
        return sum(p.numel() for p in self.parameters())
