"""The whole recipe, :class:`ExperimentConfig`, and the rules that tie its sections to the task
(which data formats, metrics and model options a language model, classifier, tagger or Seq2Seq takes)."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Literal

from seqlab.config.build import did_you_mean
from seqlab.config.decoding import DecodingConfig
from seqlab.config.schema import DataConfig, ModelConfig, TrainingConfig

TASKS = ("language_model", "classifier", "tagger", "seq2seq")
FORMATS_BY_TASK = {
    "language_model": ("text",),
    "classifier": ("tsv", "label_text", "jsonl"),
    "tagger": ("word_tag", "conll", "brown_zip"),
    "seq2seq": ("parallel", "tsv", "jsonl", "dailydialog", "aeslc"),
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
        "bleu1": "max",
        "bleu2": "max",
    },
}
# Seq2Seq validation metrics that need decoding the validation set (greedy), not just its loss.
# distinct-1/2 and the frequent-output share are logged beside bleu1/bleu2 but never select a
# checkpoint: outputs of random tokens would maximise them.
DECODED_METRICS = ("bleu", "chrf", "wer", "per", "exact_match", "rouge_l", "bleu1", "bleu2")


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
                f"(a {self.task} resumes with --resume"
                + (
                    "; model.init_encoder_from / init_decoder_from start one from language models)"
                    if self.task == "seq2seq"
                    else ")"
                )
            )
        if self.task != "tagger" and self.model.char_features:
            errors.append("model.char_features = true: only for a tagger")
        if self.task != "language_model" and self.data.pair_side is not None:
            errors.append(
                f"data.pair_side = {self.data.pair_side!r}: only a language model reads one side of pairs"
            )
        if self.task != "language_model" and self.data.lm_mode != "stream":
            errors.append(
                f"data.lm_mode = {self.data.lm_mode!r}: only a language model reads lines or a stream"
            )
        errors.extend(seq2seq_errors(self) if self.task == "seq2seq" else _not_seq2seq_errors(self))
        errors.extend(_int8_errors(self))
        return errors


def _int8_errors(cfg: ExperimentConfig) -> list[str]:
    """``decoding.int8``: only a Seq2Seq LSTM model decodes in int8 (``seqlab.models.quantize``)."""
    if not cfg.decoding.int8:
        return []
    if cfg.task != "seq2seq":
        return ["decoding.int8 = true: int8 decoding is for task: seq2seq (LSTM) only"]
    if cfg.model.cell != "lstm":
        return [
            f"decoding.int8 = true: int8 decoding quantizes LSTM models (model.cell is {cfg.model.cell!r}); "
            "set decoding.int8: false"
        ]
    return []


def _not_seq2seq_errors(cfg: ExperimentConfig) -> list[str]:
    """Seq2Seq-only settings given to another task."""
    errors = []
    data = cfg.data
    for name in ("train_source", "train_target", "valid_source", "valid_target"):
        if getattr(data, name) is not None:
            errors.append(f"data.{name} = {getattr(data, name)!r}: only for task: seq2seq (use data.train)")
    if cfg.training.label_smoothing or cfg.training.scheduled_sampling != "none":
        errors.append("training.label_smoothing / scheduled_sampling: only for task: seq2seq")
    if cfg.model.copy_attention or cfg.model.coverage_loss > 0 or cfg.model.coverage:
        errors.append(
            "model.copy_attention / coverage_loss / coverage: only for task: seq2seq (with attention)"
        )
    for name in PRETRAIN_KEYS:
        if getattr(cfg.model, name) is not None:
            errors.append(
                f"model.{name} = {getattr(cfg.model, name)!r}: only for task: seq2seq"
                + (" (use model.pretrained_vectors)" if name.endswith("vectors") else "")
            )
    return errors


PRETRAIN_KEYS = ("source_vectors", "target_vectors", "init_encoder_from", "init_decoder_from")


def _pretrain_errors(model: ModelConfig) -> list[str]:
    """Seq2Seq pretraining: which option fills which embedding (the runs themselves are checked
    before training starts, :mod:`seqlab.training.seq2seq_pretrain`, not here: a trained run's
    config.yaml must still load after the language model it started from has moved)."""
    errors = []
    if model.pretrained_vectors is not None:
        errors.append(
            f"model.pretrained_vectors = {model.pretrained_vectors!r}: a seq2seq model reads "
            "model.source_vectors and model.target_vectors (one per side; only source_vectors when "
            "model.share_embeddings)"
        )
    if model.share_embeddings and (model.target_vectors is not None):
        errors.append(
            f"model.target_vectors = {model.target_vectors!r}: model.share_embeddings = true, so the one "
            "embedding is filled by model.source_vectors; set that instead"
        )
    for vectors, init, side in (
        ("source_vectors", "init_encoder_from", "source"),
        ("target_vectors", "init_decoder_from", "target"),
    ):
        if getattr(model, vectors) is not None and getattr(model, init) is not None:
            errors.append(
                f"model.{vectors} and model.{init}: both would fill the {side} embedding; choose one"
            )
    if model.freeze_vectors and model.tie_decoder_embeddings and model.target_vectors is not None:
        errors.append(
            "model.freeze_vectors = true with model.tie_decoder_embeddings = true and "
            "model.target_vectors: the output layer is the target embedding and would be frozen too"
        )
    if model.freeze_vectors and model.source_vectors is None and model.target_vectors is None:
        errors.append("model.freeze_vectors = true: set model.source_vectors or model.target_vectors")
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
    errors.extend(_pretrain_errors(model))
    if model.attention == "none" and (model.copy_attention or model.coverage_loss > 0 or model.coverage):
        errors.append(
            f"model.copy_attention = {str(model.copy_attention).lower()}, model.coverage_loss = "
            f"{model.coverage_loss}, model.coverage = {str(model.coverage).lower()}: copying and coverage "
            "read the attention, and model.attention is 'none'; set model.attention: luong or bahdanau"
        )
    return errors
