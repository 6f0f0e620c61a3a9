"""Predictors for trained classifiers and taggers (``seqlab.load`` returns them; see ``seqlab.api``)."""

from seqlab.predictors.classifier import ClassifierPredictor, ClassPrediction
from seqlab.predictors.common import Evaluation
from seqlab.predictors.tagger import TaggerPredictor

__all__ = ["ClassPrediction", "ClassifierPredictor", "Evaluation", "TaggerPredictor"]
