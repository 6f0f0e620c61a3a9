"""Seq2Seq decoders: no attention (Sutskever; Cho's context at every step), Bahdanau, Luong.

One :class:`Decoder` covers the three; ``attention`` picks the wiring of a step:

- ``none``: ``h_t = RNN(E y_{t-1} [; c], h_{t-1})``; the features are ``h_t`` (``[h_t; c]`` with
  Cho's context ``c``, the encoder's final top state, fed at every step: ``context_every_step``).
- ``luong``: ``h_t = RNN(E y_{t-1} [; h~_{t-1}], h_{t-1})``; attention with the *current* ``h_t``
  as query gives ``c_t``; features ``h~_t = tanh(W [h_t; c_t])``. With ``input_feeding`` the
  previous ``h~`` joins the input (Luong et al. 2015, section 3.3).
- ``bahdanau``: attention with the *previous* top state ``h_{t-1}`` as query gives ``c_t``;
  ``h_t = RNN([E y_{t-1}; c_t], h_{t-1})``; features ``tanh(W [h_t; c_t])``.

Training reads the whole target at once (:meth:`Decoder.forward`). Where no step depends on the
previous step's attention (``none``, and ``luong`` without input feeding) this is the **fused
path**: one ``nn.LSTM`` call over all target positions, then attention for every step in one batched
operation. Input feeding and Bahdanau need the previous step's output, so they step one token at a
time through :meth:`Decoder.step`, which is also what inference (``decode_step``) uses; both paths
give the same numbers on the same weights (tested). An LSTM steps through :class:`LSTMSteps` (one
matrix product per layer and step, the token embedding's share of the gates computed for the whole
target ahead of the loop), not through ``nn.LSTM`` calls on one position. At inference that share is
a table with one row per target token, built once and looked up at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqlab.errors import ConfigError
from seqlab.models.attention import Attention
from seqlab.models.encoder import EncoderMemory
from seqlab.models.lstm_steps import LSTMSteps
from seqlab.models.packed import build_stack
from seqlab.models.state import RecurrentState

ATTENTION_KINDS = ("none", "bahdanau", "luong")
TOKEN_TABLE_MAX_ELEMENTS = 32 * 2**20
"""The largest inference token-gate table (vocabulary x 4 x hidden floats: 128 MB in float32)."""


@dataclass
class DecoderState:
    """The decoder's state between steps.

    ``rnn``: the recurrent state (h, c: [L, B, Hd]); ``feed``: the previous attentional vector
    [B, Hd] (input feeding) or None; ``context``: Cho's fixed context [B, He] or None;
    ``coverage``: the attention each source token has had so far [B, S] (a coverage decoder) or None.
    """

    rnn: RecurrentState
    feed: Tensor | None = None
    context: Tensor | None = None
    coverage: Tensor | None = None

    def reorder(self, indices: Tensor) -> DecoderState:
        """Select batch rows (beam search): ``indices`` LongTensor[B'] -> a state of batch B'."""
        indices = indices.to(self.rnn.h.device)
        return DecoderState(
            self.rnn.reorder(indices),
            None if self.feed is None else self.feed.index_select(0, indices),
            None if self.context is None else self.context.index_select(0, indices),
            None if self.coverage is None else self.coverage.index_select(0, indices),
        )

    def extend(self, other: DecoderState) -> DecoderState:
        """The rows of ``self`` then those of ``other`` in one state (greedy refill search)."""

        def both(a: Tensor | None, b: Tensor | None) -> Tensor | None:
            return None if a is None or b is None else torch.cat([a, b], dim=0)

        return DecoderState(
            self.rnn.extend(other.rnn),
            both(self.feed, other.feed),
            both(self.context, other.context),
            both(self.coverage, other.coverage),
        )

    @property
    def batch_size(self) -> int:
        return self.rnn.batch_size


class Decoder(nn.Module):
    """Target embedding -> recurrent stack (-> attention) -> features for the output layer.

    Args:
        embedding: target embedding [V, E].
        attention: 'none', 'bahdanau' or 'luong'; ``score``: Luong's 'dot', 'general' or 'concat'.
        hidden_size: Hd, units of the decoder stack; ``memory_size``: He, width of encoder states.
        input_feeding: Luong's input feeding; ``context_every_step``: Cho's context (no attention).
        coverage: feed the coverage vector to the attention scores (See et al. 2017); the state
            carries it, so every step depends on the previous one (no fused path).
    """

    def __init__(
        self,
        embedding: nn.Embedding,
        *,
        attention: str,
        hidden_size: int,
        memory_size: int,
        num_layers: int = 1,
        cell: str = "lstm",
        score: str = "general",
        input_feeding: bool = False,
        context_every_step: bool = False,
        dropout: float = 0.0,
        coverage: bool = False,
    ) -> None:
        super().__init__()
        if attention not in ATTENTION_KINDS:
            raise ConfigError(f"attention = {attention!r}: must be one of {', '.join(ATTENTION_KINDS)}")
        if input_feeding and attention != "luong":
            raise ConfigError("input_feeding: only with luong attention")
        if context_every_step and attention != "none":
            raise ConfigError("context_every_step: only without attention")
        if coverage and attention == "none":
            raise ConfigError("coverage: only with attention")
        self.kind = attention
        self.coverage = coverage
        self.input_feeding = input_feeding
        self.context_every_step = context_every_step
        self.hidden_size = hidden_size
        self.memory_size = memory_size
        self.embedding = embedding
        self.dropout = nn.Dropout(dropout)
        input_size = embedding.embedding_dim
        if attention == "bahdanau" or context_every_step:
            input_size += memory_size
        if input_feeding:
            input_size += hidden_size
        self.rnn = build_stack(cell, input_size, hidden_size, num_layers, dropout, False)
        self.int8 = False  # the LSTM's step products in int8 (set by seqlab.models.quantize)
        self._stepper_cache: tuple[tuple, tuple[LSTMSteps, Tensor | None]] | None = None
        self.attention: Attention | None = None
        self.combine: nn.Linear | None = None
        if attention != "none":
            self.attention = Attention(
                "additive" if attention == "bahdanau" else score, hidden_size, memory_size, coverage=coverage
            )
            self.combine = nn.Linear(hidden_size + memory_size, hidden_size, bias=False)
            self.output_size = hidden_size
        else:
            self.output_size = hidden_size + (memory_size if context_every_step else 0)

    def train(self, mode: bool = True) -> Decoder:
        """Also drops the inference cache on entering training mode: an optimizer may change the
        weights without bumping their version counters (torch's fused Adam does not), so the cache
        key alone would not see the change (see :meth:`_cached_stepper`)."""
        if mode:
            self._stepper_cache = None
        return super().train(mode)

    @property
    def can_fuse(self) -> bool:
        """Whether training can read the whole target in one recurrent call (no step feeds the next)."""
        return self.kind == "none" or (self.kind == "luong" and not self.input_feeding and not self.coverage)

    def keys(self, memory: EncoderMemory) -> Tensor | None:
        """The attention's source-only projection, cached in the memory by ``Seq2SeqModel.encode``."""
        return None if self.attention is None else self.attention.keys(memory.states)

    def initial_feed(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> Tensor | None:
        return (
            torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)
            if self.input_feeding
            else None
        )

    def initial_coverage(self, memory: EncoderMemory) -> Tensor | None:
        """Zeros [B, S] for a coverage decoder (nothing attended yet), else None."""
        return memory.mask.new_zeros(memory.mask.shape, dtype=torch.float32) if self.coverage else None

    def _attend(
        self, query: Tensor, memory: EncoderMemory, coverage: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        assert self.attention is not None
        steps = None if coverage is None else coverage.unsqueeze(1)
        return self.attention(query, memory.states, memory.mask, memory.keys, steps)

    def _features(self, hidden: Tensor, context: Tensor) -> Tensor:
        assert self.combine is not None
        return torch.tanh(self.combine(torch.cat([hidden, context], dim=-1)))

    # -- one step ---------------------------------------------------------------------------------
    def stepper(self) -> LSTMSteps | None:
        """The LSTM's weights arranged for stepping (:class:`LSTMSteps`), None for a GRU or tanh
        RNN. Built per call while gradients flow; reused across steps and calls at inference
        until a parameter changes."""
        cached = self._cached_stepper()
        if cached is not None:
            return cached[0]
        if not isinstance(self.rnn, nn.LSTM):
            return None
        return LSTMSteps(self.rnn, self.embedding.embedding_dim, self.training, int8=self.int8)

    def _cached_stepper(self) -> tuple[LSTMSteps, Tensor | None] | None:
        """At inference (eval mode, no gradients, not exporting): the cached :class:`LSTMSteps` and
        the token-gate table ``[V, 4Hd]`` (every token's share of layer 0's gates, looked up per step
        instead of one ``[B, E] x [E, 4Hd]`` product, float32 also with ``int8``; None above
        :data:`TOKEN_TABLE_MAX_ELEMENTS`).
        Rebuilt after the module was put in training mode, and when any parameter of the LSTM or the
        embedding is replaced or changed in place by an operation that bumps its version counter
        (``copy_``, ``load_state_dict``, in-place arithmetic). A change that bumps no counter while
        the model stays in eval mode (writes through ``.data``) needs ``model.train()`` first.
        None when not at inference."""
        if (
            not isinstance(self.rnn, nn.LSTM)
            or self.training
            or torch.is_grad_enabled()
            or torch.jit.is_tracing()
            or torch.onnx.is_in_onnx_export()
        ):
            return None
        params = (*self.rnn.parameters(), self.embedding.weight)
        key = (self.int8, *((p.data_ptr(), p._version) for p in params))
        if self._stepper_cache is None or self._stepper_cache[0] != key:
            steps = LSTMSteps(self.rnn, self.embedding.embedding_dim, False, int8=self.int8)
            weight = self.embedding.weight
            table = None
            if weight.shape[0] * 4 * self.hidden_size <= TOKEN_TABLE_MAX_ELEMENTS:
                table = steps.project_tokens(weight)
            self._stepper_cache = (key, (steps, table))
        return self._stepper_cache[1]

    def step(
        self,
        tokens: Tensor,
        state: DecoderState,
        memory: EncoderMemory,
        *,
        steps: LSTMSteps | None = None,
        token_gates: Tensor | None = None,
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """tokens: LongTensor[B] (the previous output) -> features [B, F], new state, attention [B, S]
        (None without attention).

        ``steps`` (from :meth:`stepper`) and ``token_gates`` (its ``project_tokens`` of this
        step's embedded tokens, [B, 4Hd]) let a loop over a known target build them once."""
        features, new_state, weights, _ = self.step_with_context(
            tokens, state, memory, steps=steps, token_gates=token_gates
        )
        return features, new_state, weights

    def step_with_context(
        self,
        tokens: Tensor,
        state: DecoderState,
        memory: EncoderMemory,
        *,
        steps: LSTMSteps | None = None,
        token_gates: Tensor | None = None,
    ) -> tuple[Tensor, DecoderState, Tensor | None, Tensor | None]:
        """:meth:`step`, also returning the attention context [B, He] (None without attention):
        what copy attention's generation probability reads."""
        if token_gates is None and steps is None:
            cached = self._cached_stepper()
            if cached is not None:
                steps, table = cached
                if table is not None:
                    token_gates = table.index_select(0, tokens)
        embedded = self.dropout(self.embedding(tokens)) if token_gates is None else None
        extras = []
        context = weights = None
        if self.kind == "bahdanau":
            context, weights = self._attend(state.rnn.h[-1].unsqueeze(1), memory, state.coverage)
            extras.append(context[:, 0])
        if self.context_every_step:
            assert state.context is not None
            extras.append(state.context)
        if self.input_feeding:
            assert state.feed is not None
            extras.append(state.feed)
        steps = self.stepper() if steps is None else steps
        if steps is None:  # GRU / tanh RNN: the module on one position
            assert embedded is not None
            out, hidden = self.rnn(torch.cat([embedded, *extras], dim=-1).unsqueeze(1), state.rnn.as_tuple())
            h, rnn = out[:, 0], RecurrentState.from_hidden(hidden)
        else:
            if token_gates is None:
                token_gates = steps.project_tokens(embedded)
            extra = torch.cat(extras, dim=-1) if extras else None
            assert state.rnn.c is not None
            h, h_all, c_all = steps.step(token_gates, extra, state.rnn.h, state.rnn.c)
            rnn = RecurrentState(h_all, c_all)
        if self.kind == "luong":
            context, weights = self._attend(h.unsqueeze(1), memory, state.coverage)
        if self.kind == "none":
            features = h if state.context is None else torch.cat([h, state.context], dim=-1)
        else:
            assert context is not None
            features = self._features(h, context[:, 0])
        coverage = None
        if state.coverage is not None:
            assert weights is not None
            coverage = state.coverage + weights[:, 0]
        new_state = DecoderState(rnn, features if self.input_feeding else None, state.context, coverage)
        step_context = None if context is None else context[:, 0]
        return features, new_state, None if weights is None else weights[:, 0], step_context

    # -- the whole target ---------------------------------------------------------------------------
    def forward(
        self, tgt_in: Tensor, state: DecoderState, memory: EncoderMemory, fused: bool | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Teacher-forced pass over tgt_in: LongTensor[B, T] -> features [B, T, F] and attention
        [B, T, S] (None without attention). ``fused`` (default: whenever possible) picks the one-call
        path; False forces the step-by-step loop (the reference the fused path is tested against)."""
        features, weights, _ = self.forward_with_context(tgt_in, state, memory, fused)
        return features, weights

    def forward_with_context(
        self, tgt_in: Tensor, state: DecoderState, memory: EncoderMemory, fused: bool | None = None
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """:meth:`forward`, also returning the attention contexts [B, T, He] (None without attention)."""
        fused = self.can_fuse if fused is None else fused
        if fused and not self.can_fuse:
            raise ConfigError(
                f"the {self.kind} decoder{' with input feeding' * self.input_feeding}"
                f"{' with coverage' * self.coverage} cannot fuse"
            )
        if fused:
            return self._forward_fused(tgt_in, state, memory)
        return self._forward_steps(tgt_in, state, memory)

    def _forward_fused(
        self, tgt_in: Tensor, state: DecoderState, memory: EncoderMemory
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        x = self.dropout(self.embedding(tgt_in))  # [B, T, E]
        steps = tgt_in.shape[1]
        if self.context_every_step:
            assert state.context is not None
            x = torch.cat([x, state.context.unsqueeze(1).expand(-1, steps, -1)], dim=-1)
        out, _ = self.rnn(x, state.rnn.as_tuple())  # one call over all T positions: [B, T, Hd]
        if self.kind == "none":
            if state.context is None:
                return out, None, None
            return torch.cat([out, state.context.unsqueeze(1).expand(-1, steps, -1)], dim=-1), None, None
        context, weights = self._attend(out, memory)  # every step at once: [B, T, He], [B, T, S]
        return self._features(out, context), weights, context

    def _forward_steps(
        self, tgt_in: Tensor, state: DecoderState, memory: EncoderMemory
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        features, weights, contexts = [], [], []
        steps = self.stepper()
        gates: tuple[Tensor, ...] | None = None
        if steps is not None:  # the embedding's share of the gates, every position in one product
            # unbind, not gates[:, t]: its backward stacks the T gradients once, where indexing
            # would add T zero-filled [B, T, 4Hd] gradients
            gates = steps.project_tokens(self.dropout(self.embedding(tgt_in))).unbind(1)  # T x [B, 4Hd]
        for t in range(tgt_in.shape[1]):
            step_gates = None if gates is None else gates[t]
            feat, state, attn, context = self.step_with_context(
                tgt_in[:, t], state, memory, steps=steps, token_gates=step_gates
            )
            features.append(feat)
            if attn is not None:
                weights.append(attn)
            if context is not None:
                contexts.append(context)
        stacked = torch.stack(weights, dim=1) if weights else None
        return torch.stack(features, dim=1), stacked, torch.stack(contexts, dim=1) if contexts else None
