"""Decoding: logits processors and one search stack (greedy, sampling, beam) over the decoding
protocol, used by Seq2Seq models and (through :mod:`seqlab.predictors.prompted`) language models."""

from seqlab.decoding.beam import beam_search
from seqlab.decoding.chain import build_processors
from seqlab.decoding.hypothesis import Hypothesis
from seqlab.decoding.options import SearchOptions, search
from seqlab.decoding.penalties import CoveragePenalty, LengthPenalty
from seqlab.decoding.processors import (
    BanTokens,
    LogitsProcessor,
    MinLength,
    NoRepeatNGram,
    ProcessorList,
    RepetitionPenalty,
    Temperature,
    TopK,
    TopP,
)
from seqlab.decoding.refill import greedy_refill_search
from seqlab.decoding.search import greedy_search, sample_search
from seqlab.decoding.step import length_limits
from seqlab.decoding.unk import replace_unk

__all__ = [
    "CoveragePenalty",
    "Hypothesis",
    "LengthPenalty",
    "LogitsProcessor",
    "BanTokens",
    "MinLength",
    "NoRepeatNGram",
    "ProcessorList",
    "RepetitionPenalty",
    "Temperature",
    "TopK",
    "TopP",
    "SearchOptions",
    "beam_search",
    "build_processors",
    "greedy_refill_search",
    "greedy_search",
    "length_limits",
    "replace_unk",
    "sample_search",
    "search",
]
