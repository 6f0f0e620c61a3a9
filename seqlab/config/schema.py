"""The configuration's sections: frozen dataclasses, each field's default defined once, here.

Each section checks its own values (``check()``); the rules that tie sections to the task are in
:mod:`seqlab.config.tasks`, and reading YAML with ``--set`` overrides in :mod:`seqlab.config.loader`.
The decoding section has its own module, :mod:`seqlab.config.decoding`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenizerConfig:
    """How raw text becomes tokens."""

    kind: Literal["char", "word", "sentencepiece", "jieba"] = "word"
    lowercase: bool = False
    sp_model_type: Literal["bpe", "unigram"] = "unigram"
    sp_vocab_size: int = 8000
    sp_character_coverage: float = 1.0

    def check(self) -> list[str]:
        errors = []
        if self.sp_vocab_size < 10:
            errors.append(f"sp_vocab_size = {self.sp_vocab_size}: must be >= 10")
        if not 0.9 <= self.sp_character_coverage <= 1.0:
            errors.append(f"sp_character_coverage = {self.sp_character_coverage}: must be in [0.9, 1.0]")
        return errors


@dataclass(frozen=True)
class VocabConfig:
    """Which tokens get an id. Special tokens are always kept."""

    min_freq: int = 1
    max_size: int | None = None

    def check(self) -> list[str]:
        errors = []
        if self.min_freq < 1:
            errors.append(f"min_freq = {self.min_freq}: must be >= 1")
        if self.max_size is not None and self.max_size < 1:
            errors.append(f"max_size = {self.max_size}: must be >= 1 or null (no limit)")
        return errors


@dataclass(frozen=True)
class DataConfig:
    """Where the text comes from and how it is batched.

    Either ``dataset`` names a catalogue entry (``seqlab data list``), or ``train`` (and optionally
    ``valid``) give file paths. Without a validation file, ``valid_fraction`` of the training data
    validates: the last lines of a language-model text, a seeded random hold-out of labelled examples.

    ``format`` says how a file is read: ``text`` (plain lines, language models), ``tsv``
    (``text<TAB>label``), ``label_text`` (``label text``), ``jsonl`` (``text_field``/``label_field``),
    ``word_tag`` (``word/TAG`` tokens a line), ``conll`` (columns, blank line between sentences),
    ``brown_zip`` (the NLTK Brown corpus zip, every ``split_every``-th file validating).

    Seq2Seq (``task: seq2seq``) reads pairs: ``parallel`` (two aligned files, ``train_source`` /
    ``train_target`` and ``valid_source`` / ``valid_target``), ``tsv`` (``source_field`` /
    ``target_field`` are column numbers, default 0 and 1) or ``jsonl`` (field names, default
    ``source`` / ``target``). Each side has its own tokenizer and vocabulary
    (``source_tokenizer``, ``target_tokenizer``, ``source_vocab``, ``target_vocab``) unless
    ``share_vocab``; training pairs longer than ``max_source_length`` / ``max_target_length``
    tokens are dropped and counted. ``source_truncate`` keeps only the first that many source tokens,
    in training, validation and every decoding of the run (``translate``, ``evaluate``, the server,
    the ONNX export's usage), so long sources (emails, articles) are read, not dropped; it applies
    before ``max_source_length``. ``dailydialog`` reads dialogues, one a line, turns ending with
    ``__eou__`` (a text file or the official zip): every turn after the first is a target, its source
    the last ``context_turns`` turns joined by ``turn_separator`` (kept as one token by the word and
    sentencepiece tokenizers). ``aeslc`` reads emails (``*.subject`` files in a tar archive or a
    folder): body -> the ``@subject`` line.

    A language model reads its text in one of two ``lm_mode`` s. ``stream``: all lines as one token
    stream (``<eos>`` after each) in BPTT windows of ``bptt`` tokens, ``batch_size`` streams, the
    state carried from window to window and so from line to line (PTB, WikiText). ``lines``: each
    line is its own sequence, read from a fresh state as ``<eos> t1 .. tn`` predicting
    ``t1 .. tn <eos>``, in length-bucketed batches of at most ``max_tokens`` padded positions, the
    padding masked out of the loss (sentences, pairs, prompts). In ``lines`` mode,
    ``target_separator`` (e.g. ``<sep>``) splits each line into a prompt and a target: the tokens
    after its first occurrence, and the ``<eos>``, are the target side (counted by the
    ``training.max_target_tokens`` budget and reported as ``target_accuracy``), and
    ``lm_loss: target`` scores only them (a prefix language model); ``all`` scores every token.
    In ``stream`` mode, ``fresh_line_share`` of the training steps take a batch of whole lines (about
    ``batch_size x bptt`` tokens), each from a fresh state, instead of the next stream window, so
    the model also learns the line start its consumers prompt from; the stream's state is kept
    across them. ``pair_side`` (``source`` or ``target``) trains a language model on one side of a
    Seq2Seq catalogue dataset named by ``dataset`` (its ``train`` and ``valid`` pairs, read with this
    section's settings, e.g. ``context_turns``): the target-side model that MMI reranking reads, or the
    per-side models ``model.init_encoder_from`` / ``init_decoder_from`` start from.
    """

    dataset: str | None = None
    train: str | None = None
    valid: str | None = None
    valid_fraction: float = 0.0
    format: Literal[
        "text",
        "tsv",
        "label_text",
        "jsonl",
        "word_tag",
        "conll",
        "brown_zip",
        "parallel",
        "dailydialog",
        "aeslc",
    ] = "text"
    text_field: str = "text"
    label_field: str = "label"
    coarse_labels: bool = False
    word_column: int = 0
    tag_column: int = -1
    split_every: int = 10
    on_error: Literal["fail", "skip"] = "fail"
    max_length: int | None = None
    add_eos: bool = True
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    vocab: VocabConfig = field(default_factory=VocabConfig)
    batch_size: int = 20
    eval_batch_size: int = 10
    bptt: int = 35
    variable_bptt: bool = False
    lm_mode: Literal["stream", "lines"] = "stream"
    fresh_line_share: float = 0.0
    target_separator: str | None = None
    lm_loss: Literal["all", "target"] = "all"
    pair_side: Literal["source", "target"] | None = None
    max_tokens: int = 4096
    train_source: str | None = None
    train_target: str | None = None
    valid_source: str | None = None
    valid_target: str | None = None
    source_field: str | None = None
    target_field: str | None = None
    source_tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    target_tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    share_vocab: bool = False
    source_vocab: VocabConfig = field(default_factory=VocabConfig)
    target_vocab: VocabConfig = field(default_factory=VocabConfig)
    max_source_length: int | None = None
    max_target_length: int | None = None
    source_truncate: int | None = None
    context_turns: int = 2
    turn_separator: str = "<turn>"

    def check(self) -> list[str]:
        errors = []
        if self.context_turns < 1:
            errors.append(
                f"context_turns = {self.context_turns}: must be >= 1 (turns of context before a reply)"
            )
        if not self.turn_separator or any(c.isspace() for c in self.turn_separator):
            errors.append(
                f"turn_separator = {self.turn_separator!r}: a non-empty token without whitespace, "
                "e.g. '<turn>'"
            )
        has_train = self.train is not None or self.train_source is not None
        if self.dataset is None and not has_train:
            errors.append(
                "dataset and train are both null: name a catalogue dataset or a train file "
                "(train_source for two aligned files)"
            )
        if self.dataset is not None and has_train:
            train = self.train if self.train is not None else self.train_source
            errors.append(f"dataset = {self.dataset!r} and train = {train!r}: set one of them, not both")
        for name in ("max_source_length", "max_target_length", "source_truncate"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1 or null (no limit)")
        if not 0.0 <= self.valid_fraction < 1.0:
            errors.append(f"valid_fraction = {self.valid_fraction}: must be in [0, 1)")
        if self.split_every < 2:
            errors.append(f"split_every = {self.split_every}: must be >= 2")
        if self.max_length is not None and self.max_length < 1:
            errors.append(f"max_length = {self.max_length}: must be >= 1 or null (no limit)")
        for name in ("batch_size", "eval_batch_size", "bptt", "max_tokens"):
            if getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1")
        if self.target_separator is not None and (
            self.lm_mode != "lines" or not self.target_separator.strip()
        ):
            errors.append(
                f"target_separator = {self.target_separator!r}: a non-blank token, only with lm_mode: lines"
            )
        if not 0.0 <= self.fresh_line_share < 1.0 or (self.fresh_line_share and self.lm_mode != "stream"):
            errors.append(
                f"fresh_line_share = {self.fresh_line_share}: in [0, 1), and only with lm_mode: stream"
            )
        if self.pair_side is not None and self.dataset is None:
            errors.append(
                f"pair_side = {self.pair_side!r}: needs dataset, a seq2seq catalogue dataset whose "
                "source or target side the language model reads"
            )
        if self.lm_loss == "target" and self.target_separator is None:
            errors.append(
                "lm_loss = 'target': needs target_separator (the token that ends each line's prompt)"
            )
        return errors


@dataclass(frozen=True)
class ModelConfig:
    """The network. ``cell`` picks the recurrent unit; the LSTM is the default and the fast path."""

    cell: Literal["lstm", "gru", "rnn_tanh"] = "lstm"
    embedding_size: int = 200
    hidden_size: int = 200
    num_layers: int = 2
    dropout: float = 0.0
    embedding_dropout: float = 0.0
    locked_dropout: bool = False
    weight_drop: float = 0.0
    tie_weights: bool = False
    init_range: float = 0.1
    bidirectional: bool = False
    pooling: Literal["last", "mean", "max", "attention"] = "last"
    pretrained_vectors: str | None = None
    freeze_vectors: bool = False
    init_from: str | None = None
    char_features: bool = False
    char_embedding_size: int = 25
    char_hidden_size: int = 25
    # Seq2Seq (task: seq2seq): see seqlab/models/seq2seq.py
    attention: Literal["none", "bahdanau", "luong"] = "luong"
    attention_score: Literal["dot", "general", "concat"] = "general"
    input_feeding: bool = False
    context_every_step: bool = False
    encoder_layers: int | None = None
    decoder_layers: int | None = None
    decoder_hidden_size: int | None = None
    bridge: Literal["linear", "copy", "zero"] = "linear"
    tie_decoder_embeddings: bool = False
    share_embeddings: bool = False
    # pretraining for Seq2Seq: see seqlab/training/seq2seq_pretrain.py
    source_vectors: str | None = None
    target_vectors: str | None = None
    init_encoder_from: str | None = None
    init_decoder_from: str | None = None
    # copy attention (pointer-generator, See et al. 2017): see seqlab/models/copy.py
    copy_attention: bool = False
    coverage_loss: float = 0.0
    coverage: bool = False

    @property
    def encoder_output_size(self) -> int:
        """Width of the Seq2Seq encoder's states: ``hidden_size``, doubled when bidirectional."""
        return self.hidden_size * (2 if self.bidirectional else 1)

    @property
    def resolved_decoder_hidden_size(self) -> int:
        """``decoder_hidden_size``, or the encoder's state width when null."""
        return self.decoder_hidden_size or self.encoder_output_size

    @property
    def resolved_encoder_layers(self) -> int:
        return self.encoder_layers or self.num_layers

    @property
    def resolved_decoder_layers(self) -> int:
        return self.decoder_layers or self.num_layers

    def check(self) -> list[str]:
        errors = []
        for name in ("encoder_layers", "decoder_layers", "decoder_hidden_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1 or null (see its default)")
        for name in ("embedding_size", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1")
        for name in ("dropout", "embedding_dropout", "weight_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                errors.append(f"{name} = {getattr(self, name)}: must be in [0, 1)")
        if self.tie_weights and self.embedding_size != self.hidden_size:
            errors.append(
                f"tie_weights = true needs embedding_size == hidden_size "
                f"(got {self.embedding_size} and {self.hidden_size})"
            )
        if self.weight_drop > 0 and self.cell != "lstm":
            errors.append(f"weight_drop = {self.weight_drop}: only supported with cell: lstm")
        if self.init_range <= 0:
            errors.append(f"init_range = {self.init_range}: must be > 0")
        for name in ("char_embedding_size", "char_hidden_size"):
            if getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1")
        if not 0.0 <= self.coverage_loss <= 100.0:
            errors.append(f"coverage_loss = {self.coverage_loss}: must be in [0, 100] (0 = off)")
        return errors


@dataclass(frozen=True)
class OptimizerConfig:
    name: Literal["adam", "adamw", "sgd", "asgd"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)

    def check(self) -> list[str]:
        errors = []
        if self.lr <= 0:
            errors.append(f"lr = {self.lr}: must be > 0")
        if self.weight_decay < 0:
            errors.append(f"weight_decay = {self.weight_decay}: must be >= 0")
        if not 0 <= self.momentum < 1:
            errors.append(f"momentum = {self.momentum}: must be in [0, 1)")
        if self.momentum > 0 and self.name != "sgd":
            errors.append(f"momentum = {self.momentum}: only used by name: sgd (got {self.name})")
        return errors


@dataclass(frozen=True)
class ScheduleConfig:
    """Learning-rate schedule. ``plateau`` steps at each validation; the others at each update."""

    name: Literal["constant", "plateau", "cosine", "inverse_sqrt", "step"] = "constant"
    warmup_steps: int = 0
    factor: float = 0.5
    patience: int = 0
    step_size: int = 1000
    min_lr: float = 0.0

    def check(self) -> list[str]:
        errors = []
        if self.warmup_steps < 0:
            errors.append(f"warmup_steps = {self.warmup_steps}: must be >= 0")
        if not 0 < self.factor < 1:
            errors.append(f"factor = {self.factor}: must be in (0, 1)")
        if self.patience < 0:
            errors.append(f"patience = {self.patience}: must be >= 0")
        if self.step_size < 1:
            errors.append(f"step_size = {self.step_size}: must be >= 1")
        if self.min_lr < 0:
            errors.append(f"min_lr = {self.min_lr}: must be >= 0")
        return errors


@dataclass(frozen=True)
class TrainingConfig:
    """The Trainer: budget, validation, checkpoints, early stopping, precision, robustness.

    The guards stop a run with exit status 3 and keep its best checkpoint: ``max_bad_steps``
    non-finite losses in a row; the validation loss above ``divergence_factor`` times the validation
    loss before training for ``divergence_patience`` scheduled validations in a row (null: off); any
    weight whose magnitude passes ``max_abs_weight`` (checked at each validation and save; null: off).
    The defaults sit far from healthy runs: trained recipes keep their weights under 10 and their
    validation loss below the loss before training.

    ``amp``: ``none`` (float32); ``bf16`` (autocast on CUDA or the CPU: bfloat16 products, float32
    weights and optimizer; on a CPU without AVX512-BF16 or AMX it warns that it will be slower);
    ``fp16`` (CUDA only); ``auto`` (bf16 where the hardware computes it, else float32).
    """

    seed: int = 1
    threads: int | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_epochs: int = 10
    max_steps: int | None = None
    max_minutes: float | None = None
    max_target_tokens: int | None = None
    clip_grad_norm: float | None = 5.0
    validate_every: int | None = None
    save_every: int | None = None
    early_stopping_patience: int | None = None
    metric: str = "ppl"
    metric_mode: Literal["min", "max"] = "min"
    amp: Literal["none", "bf16", "fp16", "auto"] = "none"
    max_bad_steps: int = 5
    divergence_patience: int | None = 3
    divergence_factor: float = 2.0
    max_abs_weight: float | None = 1000.0
    log_every: int = 50
    progress: bool = True
    tensorboard: bool = False
    class_weights: Literal["none", "balanced"] = "none"
    label_smoothing: float = 0.0
    scheduled_sampling: Literal["none", "constant", "linear", "inverse_sigmoid"] = "none"
    scheduled_sampling_start: float = 1.0
    scheduled_sampling_k: float = 1000.0
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)

    def check(self) -> list[str]:
        errors = []
        if self.max_epochs < 1:
            errors.append(f"max_epochs = {self.max_epochs}: must be >= 1")
        for name in ("max_steps", "max_target_tokens", "validate_every", "save_every", "threads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                errors.append(f"{name} = {value}: must be >= 1 or null")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            errors.append(f"early_stopping_patience = {self.early_stopping_patience}: must be >= 1 or null")
        if self.max_minutes is not None and self.max_minutes <= 0:
            errors.append(f"max_minutes = {self.max_minutes}: must be > 0 or null")
        if self.clip_grad_norm is not None and self.clip_grad_norm <= 0:
            errors.append(f"clip_grad_norm = {self.clip_grad_norm}: must be > 0 or null (no clipping)")
        if self.max_bad_steps < 1:
            errors.append(f"max_bad_steps = {self.max_bad_steps}: must be >= 1")
        if self.divergence_patience is not None and self.divergence_patience < 1:
            errors.append(f"divergence_patience = {self.divergence_patience}: must be >= 1 or null (off)")
        if not (math.isfinite(self.divergence_factor) and self.divergence_factor >= 1):
            errors.append(
                f"divergence_factor = {self.divergence_factor}: must be a finite number >= 1 (the multiple "
                "of the validation loss before training that counts as diverging)"
            )
        bound = self.max_abs_weight
        if bound is not None and not (math.isfinite(bound) and bound > 0):
            errors.append(f"max_abs_weight = {bound}: must be a finite number > 0 or null (off)")
        if self.log_every < 1:
            errors.append(f"log_every = {self.log_every}: must be >= 1")
        if not 0.0 <= self.label_smoothing < 1.0:
            errors.append(f"label_smoothing = {self.label_smoothing}: must be in [0, 1)")
        if not 0.0 <= self.scheduled_sampling_start <= 1.0:
            errors.append(
                f"scheduled_sampling_start = {self.scheduled_sampling_start}: the teacher-forcing "
                "ratio at step 0, must be in [0, 1]"
            )
        if self.scheduled_sampling_k <= 0 or (
            self.scheduled_sampling == "inverse_sigmoid" and self.scheduled_sampling_k < 1
        ):
            errors.append(
                f"scheduled_sampling_k = {self.scheduled_sampling_k}: must be > 0 (>= 1 for inverse_sigmoid)"
            )
        return errors
