"""The decoding section: how a Seq2Seq model decodes (``translate``, ``evaluate``, the server and
validation during training), every default defined once, here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seqlab.ranges import (
    COVERAGE_PENALTY,
    DIVERSITY_STRENGTH,
    MMI_LAMBDA,
    MMI_LENGTH_WEIGHT,
    REPETITION_PENALTY,
)


@dataclass(frozen=True)
class DecodingConfig:
    """How a Seq2Seq model decodes: validation decoding and the defaults of ``seqlab translate``.

    ``length_penalty``: ``none`` (sum of log-probabilities), ``average`` (divided by the length) or
    ``gnmt`` (divided by ((5 + length) / 6) ** alpha, Wu et al. 2016). Length bounds: absolute
    (``min_length``, ``max_length``) and as a ratio of the source length (``*_length_ratio``); the
    tighter bound wins. ``replace_unk`` replaces an output ``<unk>`` by the source token with the
    highest attention. ``diverse_groups`` > 1 is diverse beam search (Vijayakumar et al. 2018): the
    beam splits into that many groups (it must divide ``beam_size``), and each group's candidates
    lose ``diversity_strength`` x the number of earlier groups that chose the same token at that step.
    ``mmi_*``: MMI anti-language-model reranking (Li et al. 2016), used when ``translate`` /
    ``evaluate`` get a language model (``--mmi-lm``): score = log p(T|S) - ``mmi_lambda`` x the
    language model's log-probability of T's first ``mmi_gamma`` tokens + ``mmi_length_weight`` x |T|.
    ``int8``: ``translate``, ``evaluate`` and the server decode with int8 matrix products (an LSTM
    model on CPU; :mod:`seqlab.models.quantize`); validation during training stays float32.
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
    diverse_groups: int = 1
    diversity_strength: float = 0.0
    mmi_lambda: float = 0.5
    mmi_gamma: int = 5
    mmi_length_weight: float = 0.0
    replace_unk: bool = True
    batch_size: int = 64
    int8: bool = False

    def check(self) -> list[str]:
        errors = []
        for name in ("beam_size", "max_length", "n_best", "batch_size", "diverse_groups", "mmi_gamma"):
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
            ("diversity_strength", DIVERSITY_STRENGTH),
            ("mmi_lambda", MMI_LAMBDA),
            ("mmi_length_weight", MMI_LENGTH_WEIGHT),
        ):
            if not valid.contains(getattr(self, name)):
                errors.append(f"{name} = {getattr(self, name)}: must be a number {valid.text}")
        for name in ("max_length_ratio", "min_length_ratio"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                errors.append(f"{name} = {getattr(self, name)}: must be > 0 or null (no bound)")
        if self.n_best > self.beam_size:
            errors.append(f"n_best = {self.n_best}: at most beam_size ({self.beam_size})")
        if self.diverse_groups >= 1 and self.beam_size >= 1 and self.beam_size % self.diverse_groups:
            valid = [d for d in range(1, self.beam_size + 1) if self.beam_size % d == 0]
            errors.append(
                f"diverse_groups = {self.diverse_groups}: must divide beam_size = {self.beam_size} "
                f"(valid: {', '.join(map(str, valid))})"
            )
        if self.min_length > self.max_length:
            errors.append(f"min_length = {self.min_length}: at most max_length ({self.max_length})")
        return errors
