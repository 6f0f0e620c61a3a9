"""Experiment configuration: frozen dataclasses, loaded from YAML and validated before any work starts.

Every default is defined once, as a dataclass field below. ``load_config`` reads a YAML recipe,
applies ``--set section.key=value`` overrides, and rejects unknown keys and invalid values with one
message that lists every problem, each with the key, the value, the valid choices and a did-you-mean.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from seqlab.errors import ConfigError
from seqlab.ranges import COVERAGE_PENALTY, REPETITION_PENALTY
from seqlab.rundir.files import atomic_write_bytes

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
    tokens are dropped and counted.

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
    across them.
    """

    dataset: str | None = None
    train: str | None = None
    valid: str | None = None
    valid_fraction: float = 0.0
    format: Literal["text", "tsv", "label_text", "jsonl", "word_tag", "conll", "brown_zip", "parallel"] = (
        "text"
    )
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

    def check(self) -> list[str]:
        errors = []
        has_train = self.train is not None or self.train_source is not None
        if self.dataset is None and not has_train:
            errors.append(
                "dataset and train are both null: name a catalogue dataset or a train file "
                "(train_source for two aligned files)"
            )
        if self.dataset is not None and has_train:
            train = self.train if self.train is not None else self.train_source
            errors.append(f"dataset = {self.dataset!r} and train = {train!r}: set one of them, not both")
        for name in ("max_source_length", "max_target_length"):
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
    amp: Literal["none", "bf16", "fp16"] = "none"
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


@dataclass(frozen=True)
class DecodingConfig:
    """How a Seq2Seq model decodes: validation decoding and the defaults of ``seqlab translate``.

    ``length_penalty``: ``none`` (sum of log-probabilities), ``average`` (divided by the length) or
    ``gnmt`` (divided by ((5 + length) / 6) ** alpha, Wu et al. 2016). Length bounds: absolute
    (``min_length``, ``max_length``) and as a ratio of the source length (``*_length_ratio``); the
    tighter bound wins. ``replace_unk`` replaces an output ``<unk>`` by the source token with the
    highest attention.
    """

    beam_size: int = 5
    length_penalty: Literal["none", "average", "gnmt"] = "gnmt"
    alpha: float = 0.6
    coverage_penalty: float = 0.0
    no_repeat_ngram: int = 0
    repetition_penalty: float = 1.0
    min_length: int = 0
    max_length: int = 200
    max_length_ratio: float | None = None
    min_length_ratio: float | None = None
    n_best: int = 1
    replace_unk: bool = True
    batch_size: int = 64

    def check(self) -> list[str]:
        errors = []
        for name in ("beam_size", "max_length", "n_best", "batch_size"):
            if getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1")
        if self.alpha < 0:
            errors.append(f"alpha = {self.alpha}: must be >= 0")
        for name in ("no_repeat_ngram", "min_length"):
            if getattr(self, name) < 0:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 0 (0: off)")
        for name, valid in (
            ("repetition_penalty", REPETITION_PENALTY),
            ("coverage_penalty", COVERAGE_PENALTY),
        ):
            if not valid.contains(getattr(self, name)):
                errors.append(f"{name} = {getattr(self, name)}: must be a number {valid.text}")
        for name in ("max_length_ratio", "min_length_ratio"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                errors.append(f"{name} = {getattr(self, name)}: must be > 0 or null (no bound)")
        if self.n_best > self.beam_size:
            errors.append(f"n_best = {self.n_best}: at most beam_size ({self.beam_size})")
        if self.min_length > self.max_length:
            errors.append(f"min_length = {self.min_length}: at most max_length ({self.max_length})")
        return errors


TASKS = ("language_model", "classifier", "tagger", "seq2seq")
FORMATS_BY_TASK = {
    "language_model": ("text",),
    "classifier": ("tsv", "label_text", "jsonl"),
    "tagger": ("word_tag", "conll", "brown_zip"),
    "seq2seq": ("parallel", "tsv", "jsonl"),
}
METRICS_BY_TASK = {
    "language_model": {"ppl": "min", "loss": "min", "accuracy": "max", "target_accuracy": "max"},
    "classifier": {"accuracy": "max", "loss": "min"},
    "tagger": {"accuracy": "max", "loss": "min"},
    "seq2seq": {
        "loss": "min",
        "ppl": "min",
        "accuracy": "max",
        "bleu": "max",
        "chrf": "max",
        "wer": "min",
        "per": "min",
        "exact_match": "max",
        "rouge_l": "max",
    },
}
# Seq2Seq validation metrics that need decoding the validation set (greedy), not just its loss
DECODED_METRICS = ("bleu", "chrf", "wer", "per", "exact_match", "rouge_l")


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole recipe: what to learn from which data, with which model and trainer."""

    task: Literal["language_model", "classifier", "tagger", "seq2seq"] = "language_model"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    # every rule below depends on the task: none is judged when the task itself is wrong
    CHECK_NEEDS: typing.ClassVar[tuple[str, ...]] = ("task",)

    def check(self) -> list[str]:
        """Rules that tie sections to the task."""
        errors = []
        formats = FORMATS_BY_TASK[self.task]
        if self.data.format not in formats:
            errors.append(f"data.format = {self.data.format!r}: a {self.task} reads {', '.join(formats)}")
        metrics = METRICS_BY_TASK[self.task]
        if self.training.metric not in metrics:
            errors.append(
                f"training.metric = {self.training.metric!r}: a {self.task} validates "
                f"{', '.join(metrics)}{did_you_mean(self.training.metric, metrics)}"
            )
        elif metrics[self.training.metric] != self.training.metric_mode:
            errors.append(
                f"training.metric_mode = {self.training.metric_mode!r}: metric {self.training.metric} "
                f"improves when it goes {'down' if metrics[self.training.metric] == 'min' else 'up'} "
                f"(set metric_mode: {metrics[self.training.metric]})"
            )
        if self.task == "language_model" and self.model.bidirectional:
            errors.append("model.bidirectional = true: a language model reads left to right only")
        if self.task != "language_model":
            for name in ("embedding_dropout", "weight_drop"):
                if getattr(self.model, name) > 0:
                    errors.append(
                        f"model.{name} = {getattr(self.model, name)}: only a language model uses it "
                        f"(a {self.task} would ignore it; use model.dropout)"
                    )
            if self.model.locked_dropout:
                errors.append(
                    f"model.locked_dropout = true: only a language model uses it (a {self.task} ignores it)"
                )
        if self.task != "language_model" and self.model.tie_weights:
            errors.append("model.tie_weights = true: only a language model ties input and output")
        if self.task != "classifier" and self.training.class_weights != "none":
            errors.append(f"training.class_weights = {self.training.class_weights!r}: only for a classifier")
        if self.task not in ("classifier", "tagger") and self.model.init_from is not None:
            errors.append(
                f"model.init_from = {self.model.init_from!r}: only for a classifier or tagger "
                f"(a {self.task} resumes with --resume)"
            )
        if self.task != "tagger" and self.model.char_features:
            errors.append("model.char_features = true: only for a tagger")
        if self.task != "language_model" and self.data.lm_mode != "stream":
            errors.append(
                f"data.lm_mode = {self.data.lm_mode!r}: only a language model reads lines or a stream"
            )
        if self.task == "seq2seq":
            errors.extend(seq2seq_errors(self))
        else:
            errors.extend(_not_seq2seq_errors(self))
        return errors


def _not_seq2seq_errors(cfg: ExperimentConfig) -> list[str]:
    """Seq2Seq-only settings given to another task."""
    errors = []
    data = cfg.data
    for name in ("train_source", "train_target", "valid_source", "valid_target"):
        if getattr(data, name) is not None:
            errors.append(f"data.{name} = {getattr(data, name)!r}: only for task: seq2seq (use data.train)")
    if cfg.training.label_smoothing or cfg.training.scheduled_sampling != "none":
        errors.append("training.label_smoothing / scheduled_sampling: only for task: seq2seq")
    return errors


def seq2seq_errors(cfg: ExperimentConfig) -> list[str]:
    """The rules that tie a Seq2Seq recipe's data, model and decoding together."""
    errors = []
    data, model = cfg.data, cfg.model
    if data.format == "parallel" and data.dataset is None:
        if data.train is not None:
            errors.append(
                f"data.train = {data.train!r}: data.format parallel reads two aligned files; set "
                "data.train_source and data.train_target (or format: tsv / jsonl for one file)"
            )
        if (data.train_source is None) != (data.train_target is None):
            errors.append("data.train_source and data.train_target: set both (two aligned files)")
    if data.format != "parallel" and (data.train_source is not None or data.valid_source is not None):
        errors.append(
            f"data.train_source / valid_source: only with format: parallel (data.format is {data.format!r}; "
            "use data.train and data.valid)"
        )
    if (data.valid_source is None) != (data.valid_target is None):
        errors.append("data.valid_source and data.valid_target: set both, or neither")
    if data.format == "tsv":
        for name in ("source_field", "target_field"):
            value = getattr(data, name)
            if value is not None and not value.lstrip("-").isdigit():
                errors.append(f"data.{name} = {value!r}: with format: tsv a column number, e.g. '0'")
    encoder_size, decoder_size = model.encoder_output_size, model.resolved_decoder_hidden_size
    if model.context_every_step and model.attention != "none":
        errors.append(
            f"model.context_every_step = true: only without attention (attention is {model.attention!r}); "
            "an attention decoder already reads a context at every step"
        )
    if model.input_feeding and model.attention != "luong":
        errors.append(f"model.input_feeding = true: only with attention: luong (got {model.attention!r})")
    if model.attention == "luong" and model.attention_score == "dot" and encoder_size != decoder_size:
        errors.append(
            f"model.attention_score = dot needs the encoder states ({encoder_size} = hidden_size"
            f"{' x 2, bidirectional' if model.bidirectional else ''}) as wide as the decoder's "
            f"({decoder_size}); use general or concat, or set decoder_hidden_size: {encoder_size}"
        )
    if model.bridge == "copy":
        if encoder_size != decoder_size or model.resolved_encoder_layers != model.resolved_decoder_layers:
            errors.append(
                f"model.bridge = copy needs encoder and decoder states of one shape: encoder "
                f"{model.resolved_encoder_layers} layers x {encoder_size}, decoder "
                f"{model.resolved_decoder_layers} layers x {decoder_size}; use bridge: linear"
            )
    if model.share_embeddings and not data.share_vocab:
        errors.append("model.share_embeddings = true needs data.share_vocab: true (one vocabulary)")
    if model.tie_weights:
        errors.append("model.tie_weights: a seq2seq model ties with model.tie_decoder_embeddings")
    if model.weight_drop or model.locked_dropout:
        errors.append("model.weight_drop / locked_dropout: language-model regularisers, not for seq2seq")
    if model.pretrained_vectors is not None:
        errors.append("model.pretrained_vectors: not supported for seq2seq yet")
    return errors


# ---------------------------------------------------------------------------------------------
# Building a config from plain data, collecting every problem
# ---------------------------------------------------------------------------------------------


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_optional(tp: Any) -> tuple[bool, Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return True, args[0]
    return False, tp


_INVALID = object()  # what _convert returns for a wrong value (its error is already recorded)
# A float as YAML 1.2 writes it. PyYAML follows YAML 1.1, which needs a dot: ``1e-3`` arrives as a
# string, and learning rates are written that way.
_FLOAT_TEXT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def _convert(value: Any, tp: Any, key: str, errors: list[str], failed: set[str]) -> Any:
    """Check ``value`` against the annotation ``tp``: the converted value, or ``_INVALID`` with the
    problem added to ``errors`` (a section comes back built, its wrong fields in ``failed``)."""
    optional, inner = _is_optional(tp)
    if value is None:
        if optional:
            return None
        errors.append(f"{key} = null: a value is required")
        return _INVALID
    tp = inner
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            errors.append(f"{key} = {value!r}: expected a section (mapping) with keys {_field_names(tp)}")
            return _INVALID
        return _build(tp, value, key + ".", errors, failed)
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        if not isinstance(value, str) or value not in choices:
            listed = ", ".join(str(c) for c in choices)
            errors.append(f"{key} = {value!r}: must be one of {listed}{did_you_mean(value, choices)}")
            return _INVALID
        return value
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, list | tuple) or len(value) != len(args):
            errors.append(f"{key} = {value!r}: expected a list of {len(args)} values")
            return _INVALID
        items = tuple(
            _convert(v, a, f"{key}[{i}]", errors, failed) for i, (v, a) in enumerate(zip(value, args))
        )
        return _INVALID if any(item is _INVALID for item in items) else items
    if tp is bool:
        if not isinstance(value, bool):
            errors.append(f"{key} = {value!r}: expected true or false")
            return _INVALID
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{key} = {value!r}: expected an integer")
            return _INVALID
        return value
    if tp is float:
        return _convert_float(value, key, errors)
    if tp is str:
        if not isinstance(value, str):
            errors.append(f"{key} = {value!r}: expected a string")
            return _INVALID
        return value
    raise TypeError(f"unsupported config annotation {tp!r} for {key}")  # a bug in this module


def _convert_float(value: Any, key: str, errors: list[str]) -> Any:
    """A finite float from a number, or from a YAML 1.2 float PyYAML left as text (``1e-3``)."""
    if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()):
        value = float(value)
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer past the float range
            number = math.inf
    if not math.isfinite(number):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        errors.append(f"{key} = {shown}: expected a finite number")
        return _INVALID
    return number


def _field_names(cls: type) -> str:
    return ", ".join(f.name for f in dataclasses.fields(cls))


def _mentions(message: str, name: str) -> bool:
    """Whether ``message`` names the field ``name`` (dotted, relative) or its last part."""
    return any(
        re.search(rf"(?<![\w.]){re.escape(part)}(?!\w)", message) for part in {name, name.rsplit(".", 1)[-1]}
    )


def build_dataclass(cls: type, raw: dict[str, Any], prefix: str, errors: list[str]) -> Any:
    """``cls`` built from ``raw`` with every problem added to ``errors`` (see :func:`_build`);
    None when a value was wrong."""
    failed: set[str] = set()
    obj = _build(cls, raw, prefix, errors, failed)
    return None if failed else obj


def _build(cls: type, raw: dict[str, Any], prefix: str, errors: list[str], failed: set[str]) -> Any:
    """``cls`` built from ``raw``, every problem added to ``errors``: unknown keys, wrong values
    (their dotted keys go into ``failed`` and their defaults stand in) and the range and
    cross-field rules of ``cls.check()``, except those that name a failed field: judged on a
    default instead of the value given, such a rule would invent a problem. A class whose every
    rule reads some fields lists them in ``CHECK_NEEDS``; when one failed, no rule runs."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in raw:
        if key not in names:
            errors.append(
                f"{prefix}{key}: unknown key{did_you_mean(key, names)}; valid keys in "
                f"{prefix.rstrip('.') or 'the top level'}: {', '.join(names)}"
            )
    kwargs: dict[str, Any] = {}
    for name in names:
        if name in raw:
            value = _convert(raw[name], hints[name], prefix + name, errors, failed)
            if value is _INVALID:
                failed.add(prefix + name)
            else:
                kwargs[name] = value
        elif dataclasses.is_dataclass(hints[name]):  # an absent section: its defaults, checked too
            kwargs[name] = _build(hints[name], {}, prefix + name + ".", errors, failed)
    obj = cls(**kwargs)
    wrong = [key[len(prefix) :] for key in failed if key.startswith(prefix)]
    if any(name in wrong for name in getattr(cls, "CHECK_NEEDS", ())):
        return obj
    for message in obj.check():
        if not any(_mentions(message, name) for name in wrong):
            errors.append(prefix + message)
    return obj


def _problems(source: str, errors: list[str]) -> ConfigError:
    lines = "\n".join(f"  - {e}" for e in errors)
    return ConfigError(f"{source}: {len(errors)} problem(s) in the configuration:\n{lines}")


def config_from_dict(raw: dict[str, Any], source: str = "<config>") -> ExperimentConfig:
    """Validate plain data into an :class:`ExperimentConfig`; raise one ConfigError listing all problems."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a YAML mapping at the top level, got {type(raw).__name__}")
    errors: list[str] = []
    cfg = _build(ExperimentConfig, raw, "", errors, set())
    if errors:
        raise _problems(source, errors)
    return cfg


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain data (lists, dicts, scalars) for YAML; ``config_from_dict`` reads it back equal."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(dataclasses.asdict(cfg))


def apply_override(raw: dict[str, Any], override: str, errors: list[str]) -> None:
    if "=" not in override:
        errors.append(f"--set {override!r}: expected section.key=value, e.g. training.optimizer.lr=0.01")
        return
    dotted, text = override.split("=", 1)
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        value = text
    parts = dotted.strip().split(".")
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            errors.append(f"--set {override!r}: {part} is not a section")
            return
        node = child
    node[parts[-1]] = value


def load_config(path: str | Path | None, overrides: typing.Sequence[str] = ()) -> ExperimentConfig:
    """Read a YAML recipe (or start from defaults when ``path`` is None) and apply overrides.

    Raises ConfigError naming the file and listing every problem at once.
    """
    raw: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        path = Path(path)
        source = str(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 at byte {exc.start}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    errors: list[str] = []
    for override in overrides:
        apply_override(raw, override, errors)
    cfg = _build(ExperimentConfig, raw, "", errors, set())  # the file's problems beside the overrides'
    if errors:
        raise _problems(source, errors)
    return cfg


def save_config(cfg: ExperimentConfig, path: str | Path) -> None:
    """Write ``cfg`` as YAML (every field, defaults included) so a run directory describes itself;
    atomically (a kill mid-write leaves the old file whole)."""
    atomic_write_bytes(path, yaml.safe_dump(config_to_dict(cfg), sort_keys=False).encode("utf-8"))
