"""Build the model a recipe asks for (a plain if/elif, no registry)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from seqlab.config import TASKS, ExperimentConfig
from seqlab.errors import ConfigError
from seqlab.models.classifier import TextClassifier
from seqlab.models.language_model import LanguageModel
from seqlab.models.seq2seq import Seq2SeqModel
from seqlab.models.tagger import SequenceTagger


def build_model(
    cfg: ExperimentConfig,
    vocab_size: int,
    num_labels: int | None = None,
    char_vocab_size: int | None = None,
    class_weights: Sequence[float] | None = None,
    target_vocab_size: int | None = None,
) -> nn.Module:
    """The model for ``cfg.task`` (not yet trained).

    ``vocab_size``: number of token ids; ``num_labels``: classes (classifier) or tags (tagger);
    ``char_vocab_size``: the tagger's character ids (with ``model.char_features``);
    ``class_weights``: one loss weight per class (classifier, ``training.class_weights``);
    ``target_vocab_size``: the target side's ids (seq2seq; ``vocab_size`` is then the source's).

    Over 60 lines because each family's constructor takes its settings one keyword a line, in the
    factory's plain if/elif (no registry); splitting it would only move those lines.
    """
    model = cfg.model
    if cfg.task == "language_model":
        return LanguageModel(model, vocab_size)
    if cfg.task == "seq2seq":
        if target_vocab_size is None:
            raise ConfigError("task = 'seq2seq': the model needs the target vocabulary size")
        training = cfg.training
        return Seq2SeqModel(
            model,
            vocab_size,
            target_vocab_size,
            label_smoothing=training.label_smoothing,
            scheduled_sampling=training.scheduled_sampling,
            scheduled_sampling_start=training.scheduled_sampling_start,
            scheduled_sampling_k=training.scheduled_sampling_k,
        )
    if cfg.task in ("classifier", "tagger") and num_labels is None:
        raise ConfigError(f"task = {cfg.task!r}: the model needs the number of labels")
    if cfg.task == "classifier":
        return TextClassifier(
            vocab_size,
            num_labels,
            embedding_size=model.embedding_size,
            hidden_size=model.hidden_size,
            num_layers=model.num_layers,
            bidirectional=model.bidirectional,
            cell=model.cell,
            dropout=model.dropout,
            pooling=model.pooling,
            class_weights=None if class_weights is None else list(class_weights),
        )
    if cfg.task == "tagger":
        if model.char_features and char_vocab_size is None:
            raise ConfigError("model.char_features = true: the tagger needs the character vocabulary size")
        return SequenceTagger(
            vocab_size,
            num_labels,
            embedding_size=model.embedding_size,
            hidden_size=model.hidden_size,
            num_layers=model.num_layers,
            cell=model.cell,
            dropout=model.dropout,
            char_vocab_size=char_vocab_size if model.char_features else None,
            char_embedding_size=model.char_embedding_size,
            char_hidden_size=model.char_hidden_size,
        )
    raise ConfigError(f"task = {cfg.task!r}: must be one of {', '.join(TASKS)}")
