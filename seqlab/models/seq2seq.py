"""The encoder-decoder: :class:`Seq2SeqModel`, its loss, and the decoding protocol search talks to.

``encode(src, src_lengths) -> EncoderMemory``; ``start_state(memory) -> DecoderState``;
``decode_step(tokens, state, memory) -> (logits [B, V], state, attention [B, S] | None)``; both
memory and state have ``reorder(indices)``. ``bos_id``, ``eos_id``, ``pad_id``, ``unk_id`` are the
target vocabulary's specials. Nothing in :mod:`seqlab.decoding` looks at this class.

Training: ``loss(batch) -> (loss, stats)`` is teacher forcing with optional label smoothing and
scheduled sampling. Scheduled sampling is done in two passes (Mihaylova & Martins 2019): a first
pass without gradients predicts every position under teacher forcing; each decoder input after
``<bos>`` is then replaced by the model's own prediction for that position with probability
``1 - teacher_forcing_ratio``, and the second pass, which trains, reads that mixture. This keeps the
fused decoder path. The ratio follows ``training.scheduled_sampling`` over the training step, which
the Trainer reports through :meth:`Seq2SeqModel.set_training_progress`:

- ``none``: 1 (always the reference); ``constant``: ``start``;
- ``linear``: ``start * max(0, 1 - step / k)`` (reaches 0 after ``k`` steps);
- ``inverse_sigmoid``: ``start * k / (k + exp(step / k))`` (Bengio et al. 2015).

Copy attention (``model.copy_attention``, :mod:`seqlab.models.copy`): ``encode`` also takes
``src_copy`` LongTensor[B, S], each source token's id in the target vocabulary extended by its
sentence's unknown words, and ``decode_step`` returns **log-probabilities** over that extended
vocabulary ([B, V + the most unknown source words of a sentence in the batch]; an id no term reaches
is ``-inf``) instead of logits; search's ``log_softmax`` leaves them as they are. An output id
``>= V`` fed back as the next input is read as ``<unk>``. ``model.coverage_loss`` adds See et al.'s
coverage loss and ``model.coverage`` feeds the coverage vector to the attention scores (each with or
without copying; :mod:`seqlab.models.attention`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import Tensor, nn

from seqlab.config import ModelConfig
from seqlab.errors import ConfigError
from seqlab.models.copy import CopyGenerator, coverage_penalty_sum, mixture_log_probs, target_log_probs
from seqlab.models.decoder import Decoder, DecoderState
from seqlab.models.encoder import Encoder, EncoderMemory
from seqlab.models.state import RecurrentState
from seqlab.text.vocab import Vocabulary

SCHEDULES = ("none", "constant", "linear", "inverse_sigmoid")


def teacher_forcing_ratio(schedule: str, step: int, start: float = 1.0, k: float = 1000.0) -> float:
    """The probability of feeding the reference token at training ``step`` (see the module doc)."""
    if schedule == "none":
        return 1.0
    if schedule == "constant":
        return start
    if schedule == "linear":
        return start * max(0.0, 1.0 - step / k)
    if schedule == "inverse_sigmoid":
        return start * k / (k + math.exp(min(step / k, 700.0)))
    raise ConfigError(f"scheduled_sampling = {schedule!r}: must be one of {', '.join(SCHEDULES)}")


class Bridge(nn.Module):
    """Encoder final state [Le, B, He] -> decoder initial state [Ld, B, Hd].

    ``linear``: ``h0 = tanh(W_h h)``, ``c0 = W_c c`` (one map shared by the layers); ``copy``: as is
    (same shapes); ``zero``: zeros. When Le != Ld every decoder layer starts from the top encoder
    layer.
    """

    def __init__(
        self, kind: str, encoder_size: int, decoder_size: int, decoder_layers: int, lstm: bool
    ) -> None:
        super().__init__()
        if kind not in ("linear", "copy", "zero"):
            raise ConfigError(f"bridge = {kind!r}: must be one of linear, copy, zero")
        if kind == "copy" and encoder_size != decoder_size:
            raise ConfigError(f"bridge copy needs encoder size {encoder_size} == decoder size {decoder_size}")
        self.kind = kind
        self.decoder_size = decoder_size
        self.decoder_layers = decoder_layers
        self.lstm = lstm
        self.h_proj = nn.Linear(encoder_size, decoder_size) if kind == "linear" else None
        self.c_proj = nn.Linear(encoder_size, decoder_size) if kind == "linear" and lstm else None

    def forward(self, final: RecurrentState) -> RecurrentState:
        h, c = final.h, final.c
        if h.shape[0] != self.decoder_layers:
            h = h[-1:].expand(self.decoder_layers, -1, -1)
            c = None if c is None else c[-1:].expand(self.decoder_layers, -1, -1)
        if self.kind == "zero":
            h = h.new_zeros(self.decoder_layers, h.shape[1], self.decoder_size)
            return RecurrentState(h, torch.zeros_like(h) if self.lstm else None)
        if self.kind == "copy":
            return RecurrentState(h.contiguous(), None if c is None else c.contiguous())
        assert self.h_proj is not None
        new_h = torch.tanh(self.h_proj(h))
        new_c = self.c_proj(c) if self.c_proj is not None and c is not None else None
        return RecurrentState(new_h.contiguous(), None if new_c is None else new_c.contiguous())


class Seq2SeqModel(nn.Module):
    """Encoder-decoder over source and target token ids (see the module docstring).

    Args:
        cfg: the model section (attention, sizes, bridge, tying and sharing).
        source_vocab_size, target_vocab_size: vocabulary sizes (equal when embeddings are shared).
        label_smoothing: epsilon of the training loss; the reported NLL and perplexity are unsmoothed.
        scheduled_sampling, scheduled_sampling_start, scheduled_sampling_k: the schedule of the
            teacher-forcing ratio over training steps.
    """

    bos_id = Vocabulary.bos_id
    eos_id = Vocabulary.eos_id
    pad_id = Vocabulary.pad_id
    unk_id = Vocabulary.unk_id

    def __init__(
        self,
        cfg: ModelConfig,
        source_vocab_size: int,
        target_vocab_size: int,
        *,
        label_smoothing: float = 0.0,
        scheduled_sampling: str = "none",
        scheduled_sampling_start: float = 1.0,
        scheduled_sampling_k: float = 1000.0,
    ) -> None:
        """Build the embeddings, encoder, bridge, decoder and output layer from ``cfg``.

        Over 60 lines because each part takes its settings one keyword a line, in the order data flows.
        """
        super().__init__()
        if cfg.share_embeddings and source_vocab_size != target_vocab_size:
            raise ConfigError(
                f"share_embeddings needs one vocabulary (got {source_vocab_size} and {target_vocab_size} ids)"
            )
        teacher_forcing_ratio(scheduled_sampling, 0, scheduled_sampling_start, scheduled_sampling_k)
        self.label_smoothing = label_smoothing
        self.schedule = (scheduled_sampling, scheduled_sampling_start, scheduled_sampling_k)
        self.teacher_forcing = teacher_forcing_ratio(*self._schedule_args(0))
        size = cfg.embedding_size
        self.source_embedding = nn.Embedding(source_vocab_size, size, padding_idx=self.pad_id)
        self.target_embedding = (
            self.source_embedding
            if cfg.share_embeddings
            else nn.Embedding(target_vocab_size, size, padding_idx=self.pad_id)
        )
        self.encoder = Encoder(
            self.source_embedding,
            cfg.hidden_size,
            cfg.resolved_encoder_layers,
            cfg.cell,
            cfg.bidirectional,
            cfg.dropout,
        )
        decoder_size = cfg.resolved_decoder_hidden_size
        self.bridge = Bridge(
            cfg.bridge,
            self.encoder.output_size,
            decoder_size,
            cfg.resolved_decoder_layers,
            cfg.cell == "lstm",
        )
        self.decoder = Decoder(
            self.target_embedding,
            attention=cfg.attention,
            hidden_size=decoder_size,
            memory_size=self.encoder.output_size,
            num_layers=cfg.resolved_decoder_layers,
            cell=cfg.cell,
            score=cfg.attention_score,
            input_feeding=cfg.input_feeding,
            context_every_step=cfg.context_every_step,
            dropout=cfg.dropout,
            coverage=cfg.coverage,
        )
        if (cfg.copy_attention or cfg.coverage_loss > 0) and self.decoder.attention is None:
            raise ConfigError(
                "model.copy_attention / coverage_loss: need attention (model.attention is none)"
            )
        self.target_vocab_size = target_vocab_size
        self.coverage_weight = cfg.coverage_loss
        self.copy = (
            CopyGenerator(self.encoder.output_size, self.decoder.output_size, size)
            if cfg.copy_attention
            else None
        )
        self.dropout = nn.Dropout(cfg.dropout)
        features = self.decoder.output_size
        tie = cfg.tie_decoder_embeddings
        # tying needs the output layer's input as wide as the embeddings: a projection bridges the gap
        self.pre_output = nn.Linear(features, size, bias=False) if tie and features != size else None
        self.output = nn.Linear(size if tie else features, target_vocab_size)
        self._init_weights(cfg.init_range)
        if tie:
            self.output.weight = self.target_embedding.weight

    def _schedule_args(self, step: int) -> tuple[str, int, float, float]:
        name, start, k = self.schedule
        return name, step, start, k

    def _init_weights(self, init_range: float) -> None:
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -init_range, init_range)
        with torch.no_grad():
            self.source_embedding.weight[self.pad_id].zero_()
            self.target_embedding.weight[self.pad_id].zero_()

    # -- training hooks ------------------------------------------------------------------------
    def set_training_progress(self, step: int) -> None:
        """Called by the Trainer before each training step: updates the teacher-forcing ratio."""
        self.teacher_forcing = teacher_forcing_ratio(*self._schedule_args(step))

    # -- the decoding protocol -----------------------------------------------------------------
    def encode(self, src: Tensor, src_lengths: Tensor, src_copy: Tensor | None = None) -> EncoderMemory:
        """src: LongTensor[B, S]; src_lengths: LongTensor[B] -> memory (attention keys cached).
        ``src_copy`` LongTensor[B, S]: the source's copy ids (copy attention only; see the module doc)."""
        memory = self.encoder(src, src_lengths)
        memory = memory.with_keys(self.decoder.keys(memory))
        if self.copy is not None and src_copy is not None:
            if src_copy.shape != src.shape:
                raise ValueError(
                    f"src_copy {tuple(src_copy.shape)}: must have the shape of src {tuple(src.shape)}"
                )
            width = self.target_vocab_size
            if src_copy.numel():
                width = max(width, int(src_copy.max()) + 1)
            memory = replace(memory, copy_ids=src_copy.to(src.device), extended_size=width)
        return memory

    def vocabulary_ids(self, tokens: Tensor) -> Tensor:
        """Ids over the extended vocabulary -> the ids the target embedding reads (``>= V``: ``<unk>``)."""
        if self.copy is None:
            return tokens
        return tokens.masked_fill(tokens >= self.target_vocab_size, self.unk_id)

    def _copy_inputs(self, memory: EncoderMemory) -> tuple[Tensor, int]:
        if memory.copy_ids is None or memory.extended_size is None:
            raise ValueError(
                "a copy-attention model needs each source's copy ids: encode(src, src_lengths, src_copy)"
            )
        return memory.copy_ids, memory.extended_size

    def copy_log_probs(
        self,
        tokens: Tensor,
        features: Tensor,
        attention: Tensor,
        context: Tensor,
        memory: EncoderMemory,
        logits: Tensor | None = None,
    ) -> Tensor:
        """Exact log-probabilities over the extended vocabulary: decoder inputs ``tokens`` [B(, T)]
        (vocabulary ids), ``features`` [B(, T), F], ``attention`` [B(, T), S], ``context``
        [B(, T), He] (``logits``: the output layer's, when already computed) -> FloatTensor[B(, T),
        extended_size]."""
        assert self.copy is not None
        copy_ids, width = self._copy_inputs(memory)
        gate = self.copy(context, features, self.target_embedding(tokens))
        logits = self.logits(features) if logits is None else logits
        return mixture_log_probs(logits, gate, attention, copy_ids, width)

    def start_state(self, memory: EncoderMemory) -> DecoderState:
        """The decoder's first state, from the encoder's final state through the bridge."""
        states = memory.states
        context = memory.final.h[-1] if self.decoder.context_every_step else None
        feed = self.decoder.initial_feed(memory.batch_size, states.device, states.dtype)
        return DecoderState(self.bridge(memory.final), feed, context, self.decoder.initial_coverage(memory))

    def logits(self, features: Tensor) -> Tensor:
        """Decoder features [..., F] -> raw logits [..., V]."""
        features = self.dropout(features)
        if self.pre_output is not None:
            features = self.pre_output(features)
        return self.output(features)

    def decode_step(
        self, tokens: Tensor, state: DecoderState, memory: EncoderMemory
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """tokens: LongTensor[B] -> logits FloatTensor[B, V], the new state, attention [B, S] or None.
        A copy model returns log-probabilities [B, extended_size] (see the module doc)."""
        if self.copy is None:
            features, state, attention = self.decoder.step(tokens, state, memory)
            return self.logits(features), state, attention
        tokens = self.vocabulary_ids(tokens)
        features, state, attention, context = self.decoder.step_with_context(tokens, state, memory)
        assert attention is not None and context is not None
        return self.copy_log_probs(tokens, features, attention, context, memory), state, attention

    # -- training -------------------------------------------------------------------------------
    def forward(
        self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor, fused: bool | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Teacher-forced logits [B, T, V] and attention [B, T, S] (or None) for decoder inputs tgt_in
        (of a copy model: its vocabulary logits alone; the mixture with copying is :meth:`forward_copy`)."""
        memory = self.encode(src, src_lengths)
        features, attention = self.decoder(tgt_in, self.start_state(memory), memory, fused)
        return self.logits(features), attention

    def forward_copy(
        self, src: Tensor, src_lengths: Tensor, src_copy: Tensor, tgt_in: Tensor, fused: bool | None = None
    ) -> tuple[Tensor, Tensor]:
        """A copy model's teacher-forced log-probabilities [B, T, extended_size] and attention [B, T, S]."""
        memory = self.encode(src, src_lengths, src_copy)
        tgt_in = self.vocabulary_ids(tgt_in)
        features, attention, context = self.decoder.forward_with_context(
            tgt_in, self.start_state(memory), memory, fused
        )
        assert attention is not None and context is not None
        return self.copy_log_probs(tgt_in, features, attention, context, memory), attention

    @torch.no_grad()
    def generation_probabilities(
        self, src: Tensor, src_lengths: Tensor, src_copy: Tensor, tgt_in: Tensor
    ) -> Tensor:
        """A copy model's p_gen at each step of the decoder inputs tgt_in [B, T] -> FloatTensor[B, T]
        (1: the token comes from the vocabulary distribution, 0: it is copied from the source)."""
        if self.copy is None:
            raise ValueError("generation probabilities: this model has no copy attention")
        memory = self.encode(src, src_lengths, src_copy)
        tgt_in = self.vocabulary_ids(tgt_in)
        features, _, context = self.decoder.forward_with_context(tgt_in, self.start_state(memory), memory)
        assert context is not None
        return torch.sigmoid(self.copy(context, features, self.target_embedding(tgt_in)))

    def _scheduled_inputs(self, batch, memory: EncoderMemory) -> Tensor:  # noqa: ANN001 - Seq2SeqBatch
        """Decoder inputs with some reference tokens replaced by the model's own predictions."""
        with torch.no_grad():
            tgt_in = self.vocabulary_ids(batch.tgt_in)
            features, attention, context = self.decoder.forward_with_context(
                tgt_in, self.start_state(memory), memory
            )
            if self.copy is None:
                predicted = self.logits(features).argmax(dim=-1)  # prediction of position t+1 at t
            else:
                assert attention is not None and context is not None
                scores = self.copy_log_probs(tgt_in, features, attention, context, memory)
                predicted = self.vocabulary_ids(scores.argmax(dim=-1))
        use_model = torch.rand(batch.tgt_in.shape, device=batch.tgt_in.device) >= self.teacher_forcing
        use_model[:, 0] = False  # <bos> stays
        use_model &= batch.tgt_in != self.pad_id
        shifted = torch.cat([tgt_in[:, :1], predicted[:, :-1]], dim=1)
        return torch.where(use_model, shifted, tgt_in)

    def loss(self, batch) -> tuple[Tensor, dict[str, float]]:  # noqa: ANN001 - Seq2SeqBatch
        """Mean (label-smoothed) cross-entropy per real target token; stats: nll_sum (unsmoothed),
        tokens, correct (summable)."""
        memory = self.encode(batch.src, batch.src_lengths, getattr(batch, "src_copy", None))
        tgt_in = self.vocabulary_ids(batch.tgt_in)
        if self.training and self.teacher_forcing < 1.0:
            tgt_in = self._scheduled_inputs(batch, memory)
        features, attention, context = self.decoder.forward_with_context(
            tgt_in, self.start_state(memory), memory
        )
        logits = self.logits(features).float()
        log_probs = torch.log_softmax(logits, dim=-1)
        target = batch.tgt_out
        real = target != self.pad_id
        tokens = real.sum()
        if self.copy is None:
            nll = -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        else:
            assert attention is not None and context is not None
            copy_ids, _ = self._copy_inputs(memory)
            gate = self.copy(context, features, self.target_embedding(tgt_in))
            nll = -target_log_probs(logits, gate, attention, copy_ids, target)
        nll_sum = nll.masked_select(real).sum()
        if self.label_smoothing > 0:  # with copying: smooths the vocabulary distribution
            uniform = -log_probs.mean(dim=-1).masked_select(real).sum()
            total = (1 - self.label_smoothing) * nll_sum + self.label_smoothing * uniform
        else:
            total = nll_sum
        if self.coverage_weight > 0:
            assert attention is not None
            total = total + self.coverage_weight * coverage_penalty_sum(attention, real)
        loss = total / tokens.clamp(min=1)
        with torch.no_grad():
            if self.copy is not None:
                assert attention is not None and context is not None
                logits = self.copy_log_probs(tgt_in, features, attention, context, memory, logits)
            correct = ((logits.argmax(dim=-1) == target) & real).sum()
        stats = {"nll_sum": float(nll_sum.detach()), "tokens": float(tokens), "correct": float(correct)}
        return loss, stats

    @staticmethod
    def summarize(stats: dict[str, float]) -> dict[str, float]:
        """Summed stats -> ``loss`` (NLL per target token), ``ppl`` and token ``accuracy``."""
        tokens = max(stats.get("tokens", 0.0), 1.0)
        loss = stats.get("nll_sum", math.nan) / tokens
        return {
            "loss": loss,
            "ppl": math.exp(min(loss, 50.0)),
            "accuracy": stats.get("correct", 0.0) / tokens,
        }
