"""Decoding: logits processors and search (greedy, sampling) over the decoding protocol."""

from seqlab.decoding.greedy import greedy_choice, greedy_generate
from seqlab.decoding.loop import decode_loop
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
from seqlab.decoding.sampling import generate, next_token_distribution, sample_choice, sample_generate

__all__ = [
    "LogitsProcessor",
    "BanTokens",
    "MinLength",
    "NoRepeatNGram",
    "ProcessorList",
    "RepetitionPenalty",
    "Temperature",
    "TopK",
    "TopP",
    "decode_loop",
    "generate",
    "greedy_choice",
    "greedy_generate",
    "next_token_distribution",
    "sample_choice",
    "sample_generate",
]
