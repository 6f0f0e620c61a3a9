"""Decoding: logits processors and search (greedy, sampling, beam) over the decoding protocol."""

from seqlab.decoding.beam import beam_search
from seqlab.decoding.greedy import greedy_choice, greedy_generate
from seqlab.decoding.hypothesis import Hypothesis
from seqlab.decoding.loop import decode_loop
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
from seqlab.decoding.sampling import generate, next_token_distribution, sample_choice, sample_generate
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
    "beam_search",
    "decode_loop",
    "generate",
    "greedy_choice",
    "greedy_generate",
    "greedy_refill_search",
    "greedy_search",
    "length_limits",
    "next_token_distribution",
    "replace_unk",
    "sample_choice",
    "sample_generate",
    "sample_search",
]
