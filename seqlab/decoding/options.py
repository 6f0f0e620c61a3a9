"""Every decoding control in one frozen dataclass, and the search it selects.

The defaults of the controls a run's ``decoding`` section holds are that section's own
(:class:`seqlab.config.DecodingConfig`, the one place they are defined); the sampling controls,
which no run section holds, are defined here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from seqlab.config import DecodingConfig
from seqlab.decoding.beam import beam_search
from seqlab.decoding.chain import build_processors
from seqlab.decoding.diversity import check_groups
from seqlab.decoding.hypothesis import Hypothesis
from seqlab.decoding.penalties import LengthPenalty
from seqlab.decoding.processors import ProcessorList
from seqlab.decoding.search import greedy_search, sample_search

_DEFAULTS = DecodingConfig()


@dataclass(frozen=True)
class SearchOptions:
    """Every decoding control; ``from_config`` fills them from a ``decoding`` section."""

    beam_size: int = _DEFAULTS.beam_size
    n_best: int = _DEFAULTS.n_best
    length_penalty: str = _DEFAULTS.length_penalty
    alpha: float = _DEFAULTS.alpha
    coverage_penalty: float = _DEFAULTS.coverage_penalty
    no_repeat_ngram: int = _DEFAULTS.no_repeat_ngram
    repetition_penalty: float = _DEFAULTS.repetition_penalty
    min_length: int = _DEFAULTS.min_length
    max_length: int = _DEFAULTS.max_length
    max_length_ratio: float | None = _DEFAULTS.max_length_ratio
    min_length_ratio: float | None = _DEFAULTS.min_length_ratio
    diverse_groups: int = _DEFAULTS.diverse_groups
    diversity_strength: float = _DEFAULTS.diversity_strength
    sampling: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = None

    @classmethod
    def from_config(cls, cfg: DecodingConfig, **overrides: Any) -> SearchOptions:
        """The run's decoding section with ``overrides`` (a None value keeps the run's setting)."""
        names = {f.name for f in dataclasses.fields(cls)}
        base = {k: v for k, v in dataclasses.asdict(cfg).items() if k in names}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)

    def greedy(self) -> SearchOptions:
        return dataclasses.replace(self, beam_size=1, n_best=1, sampling=False, diverse_groups=1)

    def processors(self, banned: list[int] | tuple[int, ...] = ()) -> ProcessorList:
        """The chain of these options' penalties (off at their neutral values), after ``banned``."""
        return build_processors(
            repetition_penalty=None if self.repetition_penalty == 1.0 else self.repetition_penalty,
            no_repeat_ngram=self.no_repeat_ngram or None,
            banned=banned,
        )


def search(
    model: Any,
    memory: Any,
    state: Any,
    opts: SearchOptions,
    *,
    generator: torch.Generator | None = None,
    **common: Any,
) -> list[list[Hypothesis]]:
    """The search ``opts`` select (sampling, greedy or beam) over B encoded rows -> per row a list
    of hypotheses, best first (one for greedy and sampling, up to ``n_best`` for beam).

    ``common``: the keyword arguments every search takes (``max_lengths``, ``min_lengths``,
    ``processors``, ``bos_id``, ``eos_id``, ``prefix``). Sampling draws with ``generator``, or else
    with one seeded with ``opts.seed`` on the memory's device when that is set. Sampling ignores
    ``beam_size`` and ``diverse_groups``; otherwise ``diverse_groups`` must divide ``beam_size``.
    """
    if not opts.sampling:
        check_groups(opts.beam_size, opts.diverse_groups, opts.diversity_strength)
    if opts.sampling:
        if generator is None and opts.seed is not None:
            generator = torch.Generator(device=memory.lengths.device)
            generator.manual_seed(opts.seed)
        found = sample_search(
            model, memory, state, temperature=opts.temperature, top_k=opts.top_k, top_p=opts.top_p,
            generator=generator, **common,
        )  # fmt: skip
        return [[h] for h in found]
    if opts.beam_size == 1 and opts.coverage_penalty == 0:
        return [[h] for h in greedy_search(model, memory, state, **common)]
    return beam_search(
        model, memory, state, beam_size=opts.beam_size,
        length_penalty=LengthPenalty(opts.length_penalty, opts.alpha),
        coverage_penalty=opts.coverage_penalty, n_best=opts.n_best, diverse_groups=opts.diverse_groups,
        diversity_strength=opts.diversity_strength, **common,
    )  # fmt: skip
