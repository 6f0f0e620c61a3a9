"""Models: recurrent layers, the language model, classifier and tagger, and the factory that builds
them from a config."""

from seqlab.models.classifier import TextClassifier
from seqlab.models.factory import build_model
from seqlab.models.language_model import LanguageModel, embedding_dropout
from seqlab.models.lstm import (
    LockedDropout,
    ReferenceLSTM,
    ReferenceLSTMCell,
    WeightDropLSTM,
    build_recurrent,
    lstm_cell_step,
)
from seqlab.models.state import RecurrentState
from seqlab.models.tagger import SequenceTagger

__all__ = [
    "LanguageModel",
    "LockedDropout",
    "RecurrentState",
    "SequenceTagger",
    "TextClassifier",
    "ReferenceLSTM",
    "ReferenceLSTMCell",
    "WeightDropLSTM",
    "build_model",
    "build_recurrent",
    "embedding_dropout",
    "lstm_cell_step",
]
