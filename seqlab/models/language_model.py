"""A recurrent word/character language model (pytorch/examples word_language_model, AWD-LSTM options).

embedding -> embedding dropout (whole word types) -> dropout -> recurrent stack -> dropout -> decoder.

The model carries its hidden state from one ``loss`` call to the next (truncated backpropagation
through time): the state is detached after each batch, kept separately for training and for
evaluation, and dropped when a batch says ``reset`` or the batch size changes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config import ModelConfig
from seqlab.errors import CheckpointError, ConfigError
from seqlab.models.line_start import expand_state
from seqlab.models.lstm import LockedDropout, build_recurrent
from seqlab.models.state import RecurrentState

_MODES = ("train", "eval")


def embedding_dropout(embedding: nn.Embedding, inputs: Tensor, p: float, training: bool) -> Tensor:
    """Look up ``inputs`` [B, T] -> [B, T, E], dropping whole word types with probability ``p``.

    In training every row of the embedding matrix is zeroed with probability ``p`` (the same word
    is dropped everywhere in the batch) and the kept rows are scaled by 1 / (1 - p) (AWD-LSTM).
    """
    if not training or p == 0.0:
        return embedding(inputs)
    weight = embedding.weight
    mask = weight.new_empty(weight.shape[0], 1).bernoulli_(1.0 - p) / (1.0 - p)
    return F.embedding(inputs, weight * mask, embedding.padding_idx)


class LanguageModel(nn.Module):
    """Predicts the next token at every position.

    ``cfg`` gives the cell ('lstm', 'gru', 'rnn_tanh'), sizes, dropouts, weight drop and tying;
    ``vocab_size`` is V, the number of token ids.
    """

    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
            raise ConfigError(f"vocab_size = {vocab_size!r}: must be an integer >= 1")
        if cfg.tie_weights and cfg.embedding_size != cfg.hidden_size:
            raise ConfigError(
                f"tie_weights = true needs embedding_size == hidden_size "
                f"(got {cfg.embedding_size} and {cfg.hidden_size})"
            )
        self.cfg = cfg
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, cfg.embedding_size)
        self.input_dropout = self._dropout(cfg)
        if cfg.locked_dropout:
            # One single-layer module per layer, with variational dropout between them.
            sizes = [cfg.embedding_size] + [cfg.hidden_size] * (cfg.num_layers - 1)
            self.recurrent = nn.ModuleList(
                build_recurrent(cfg.cell, size, cfg.hidden_size, 1, 0.0, cfg.weight_drop) for size in sizes
            )
            self.between_dropout = nn.ModuleList(LockedDropout(cfg.dropout) for _ in sizes[1:])
        else:
            stack = build_recurrent(
                cfg.cell, cfg.embedding_size, cfg.hidden_size, cfg.num_layers, cfg.dropout, cfg.weight_drop
            )
            self.recurrent = nn.ModuleList([stack])
            self.between_dropout = nn.ModuleList()
        self.output_dropout = self._dropout(cfg)
        self.decoder = nn.Linear(cfg.hidden_size, vocab_size)
        self._init_weights(cfg.init_range)
        if cfg.tie_weights:
            self.decoder.weight = self.embedding.weight
        self._carry: dict[str, RecurrentState | None] = {mode: None for mode in _MODES}
        # Where a line starts when no state is given: None = zeros (every line of a line-mode model
        # started there); a stream-trained model may be given an estimated start state
        # (:mod:`seqlab.models.line_start`, [L, 1, H]), which its predictor loads from the run.
        self.line_start: RecurrentState | None = None

    @staticmethod
    def _dropout(cfg: ModelConfig) -> nn.Module:
        return LockedDropout(cfg.dropout) if cfg.locked_dropout else nn.Dropout(cfg.dropout)

    def _init_weights(self, init_range: float) -> None:
        nn.init.uniform_(self.embedding.weight, -init_range, init_range)
        nn.init.uniform_(self.decoder.weight, -init_range, init_range)
        nn.init.zeros_(self.decoder.bias)

    @property
    def has_cell_state(self) -> bool:
        return self.cfg.cell == "lstm"

    # ------------------------------------------------------------------------------------------
    # Forward
    # ------------------------------------------------------------------------------------------

    def forward(self, inputs: Tensor, state: RecurrentState | None = None) -> tuple[Tensor, RecurrentState]:
        """inputs: LongTensor[B, T]; state: RecurrentState with [L, B, H] tensors, or None (the line
        start: zeros, or ``line_start`` when one is set and the model is not training).

        Returns logits FloatTensor[B, T, V] and the state after the last step.
        """
        if state is None and self.line_start is not None and not self.training:
            state = self.init_state(inputs.shape[0], inputs.device)
        x = embedding_dropout(self.embedding, inputs, self.cfg.embedding_dropout, self.training)
        x = self.input_dropout(x)
        final_states = []
        first_layer = 0
        for index, module in enumerate(self.recurrent):
            if index > 0:
                x = self.between_dropout[index - 1](x)
            layers = module.num_layers
            hidden = None if state is None else state.layers(first_layer, first_layer + layers).as_tuple()
            x, hidden_out = module(x, hidden)
            final_states.append(RecurrentState.from_hidden(hidden_out))
            first_layer += layers
        x = self.output_dropout(x)
        return self.decoder(x), RecurrentState.concat(final_states)

    # ------------------------------------------------------------------------------------------
    # Training interface: loss with a carried hidden state
    # ------------------------------------------------------------------------------------------

    def loss(self, batch: Any) -> tuple[Tensor, dict[str, float]]:
        """Mean next-token cross-entropy of ``batch`` (an LMBatch: inputs, targets [B, T], reset,
        is_target); targets equal to ``IGNORE_INDEX`` (-100: padding, an unscored prompt) count for
        nothing.

        Starts from the hidden state carried over from the previous call in the same mode (training
        or eval), unless ``batch.reset`` is true or the batch size changed. Returns the scalar loss
        and summable stats: ``nll_sum``, ``tokens`` (scored targets), ``correct`` (argmax hits), and
        when the batch marks a target side, ``target_tokens`` / ``target_correct`` over it.
        """
        mode = "train" if self.training else "eval"
        inputs, targets = batch.inputs, batch.targets
        carry = self._carry[mode]
        if batch.reset or carry is None or carry.batch_size != inputs.shape[0]:
            carry = None
        elif carry.h.device != inputs.device:
            carry = carry.to(inputs.device)
        logits, state = self(inputs, carry)
        if getattr(batch, "carries", True):  # a batch of fresh lines leaves the stream's state alone
            self._carry[mode] = state.detach()
        flat_targets = targets.reshape(-1)
        nll_sum = F.cross_entropy(
            logits.reshape(-1, self.vocab_size).float(), flat_targets, reduction="sum", ignore_index=-100
        )
        scored = targets != -100
        tokens = int(scored.sum())
        loss = nll_sum / max(tokens, 1)
        with torch.no_grad():
            hits = logits.argmax(dim=-1) == targets
            stats = {
                "nll_sum": float(nll_sum.detach()),
                "tokens": float(tokens),
                "correct": float((hits & scored).sum()),
            }
            is_target = getattr(batch, "is_target", None)
            if is_target is not None:
                stats["target_tokens"] = float(is_target.sum())
                stats["target_correct"] = float((hits & is_target).sum())
        return loss, stats

    @staticmethod
    def summarize(stats_sum: dict[str, float]) -> dict[str, float]:
        """Summed stats -> ``{"loss": nll per token, "ppl": exp(loss), "accuracy": next-token argmax
        accuracy}``, plus ``target_accuracy`` when the batches marked a target side.

        ``ppl`` is inf when exp overflows; all are nan when no tokens were counted.
        """
        tokens = stats_sum.get("tokens", 0.0)
        if tokens <= 0:
            return {"loss": math.nan, "ppl": math.nan, "accuracy": math.nan}
        loss = stats_sum["nll_sum"] / tokens
        try:
            ppl = math.exp(loss)
        except OverflowError:
            ppl = math.inf
        out = {"loss": loss, "ppl": ppl, "accuracy": stats_sum.get("correct", 0.0) / tokens}
        if stats_sum.get("target_tokens", 0.0) > 0:
            out["target_accuracy"] = stats_sum["target_correct"] / stats_sum["target_tokens"]
        return out

    def reset_carry(self, mode: str | None = None) -> None:
        """Forget the carried hidden state of ``mode`` ('train' or 'eval'), or of both when None."""
        for name in _MODES if mode is None else (mode,):
            self._carry[name] = None

    def carry_state(self) -> dict[str, Tensor]:
        """The carried states as tensors for a checkpoint.

        Keys 'train.h', 'train.c', 'eval.h', 'eval.c' (only those present); values [L, B, H] copies.
        """
        out: dict[str, Tensor] = {}
        for mode, state in self._carry.items():
            if state is None:
                continue
            out[f"{mode}.h"] = state.h.detach().clone().contiguous()
            if state.c is not None:
                out[f"{mode}.c"] = state.c.detach().clone().contiguous()
        return out

    def load_carry_state(self, tensors: dict[str, Tensor]) -> None:
        """Restore what :meth:`carry_state` returned; modes absent from ``tensors`` start fresh."""
        valid = {f"{mode}.{part}" for mode in _MODES for part in ("h", "c")}
        unknown = sorted(set(tensors) - valid)
        if unknown:
            raise CheckpointError(f"carried state has unknown keys {unknown}; valid keys: {sorted(valid)}")
        device = self.decoder.weight.device
        for mode in _MODES:
            h, c = tensors.get(f"{mode}.h"), tensors.get(f"{mode}.c")
            if h is None:
                self._carry[mode] = None
                continue
            if (c is not None) != self.has_cell_state:
                raise CheckpointError(
                    f"carried state for '{mode}' {'has' if c is not None else 'lacks'} a cell state "
                    f"but the model's cell is {self.cfg.cell!r}"
                )
            layers, hidden = self.cfg.num_layers, self.cfg.hidden_size
            bad_h = h.dim() != 3 or h.shape[0] != layers or h.shape[2] != hidden
            if bad_h or (c is not None and c.shape != h.shape):
                raise CheckpointError(
                    f"carried state '{mode}.h' has shape {tuple(h.shape)}; expected "
                    f"[num_layers, batch, hidden] = [{layers}, B, {hidden}]"
                )
            self._carry[mode] = RecurrentState(h.to(device), None if c is None else c.to(device))

    # ------------------------------------------------------------------------------------------
    # Decoding protocol
    # ------------------------------------------------------------------------------------------

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> RecurrentState:
        """The line start: RecurrentState with h (and c for an LSTM) of shape [L, batch_size, H];
        zeros, or ``line_start`` repeated over the batch when one is set."""
        if self.line_start is not None:
            state = expand_state(self.line_start, batch_size)
            return state if device is None else state.to(device)
        weight = self.decoder.weight
        shape = (self.cfg.num_layers, batch_size, self.cfg.hidden_size)
        h = torch.zeros(shape, dtype=weight.dtype, device=device or weight.device)
        return RecurrentState(h, torch.zeros_like(h) if self.has_cell_state else None)

    def decode_step(
        self, tokens: Tensor, state: RecurrentState | None, memory: Any = None
    ) -> tuple[Tensor, RecurrentState, None]:
        """tokens: LongTensor[B] -> (logits [B, V], the next state, no attention). ``memory`` is unused."""
        logits, state = self(tokens.unsqueeze(1), state)
        return logits[:, 0], state, None

    def num_parameters(self) -> int:
        """Number of trainable values (a tied matrix counts once)."""
        return sum(p.numel() for p in self.parameters())
