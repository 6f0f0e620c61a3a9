"""The one builder of the logits-processor chain (language models, Seq2Seq and the lm_sep contender)."""

from __future__ import annotations

from collections.abc import Sequence

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
from seqlab.errors import ConfigError


def build_processors(
    *,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float | None = None,
    no_repeat_ngram: int | None = None,
    min_length: int | None = None,
    eos_id: int | None = None,
    prompt_length: int = 0,
    banned: Sequence[int] = (),
) -> ProcessorList:
    """The decoding controls as one processor chain, in the order they compose: penalties and bans
    first, then temperature, then truncation (top-k, top-p). ``None`` leaves a control out;
    ``banned`` token ids are never produced. (The searches take minimum lengths and the sampling
    controls as arguments of their own; this chain is for callers that apply them as processors.)"""
    chain: list[LogitsProcessor] = [BanTokens(banned)] if banned else []
    if repetition_penalty is not None:
        chain.append(RepetitionPenalty(repetition_penalty))
    if no_repeat_ngram is not None:
        chain.append(NoRepeatNGram(no_repeat_ngram))
    if min_length is not None:
        if eos_id is None:
            raise ConfigError("min_length needs an end-of-sequence token id")
        chain.append(MinLength(min_length, eos_id, prompt_length=prompt_length))
    if temperature is not None:
        chain.append(Temperature(temperature))
    if top_k is not None:
        chain.append(TopK(top_k))
    if top_p is not None:
        chain.append(TopP(top_p))
    return ProcessorList(chain)
