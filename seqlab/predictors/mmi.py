"""MMI anti-language-model reranking of a Seq2Seq n-best list (Li et al. 2016, "A Diversity-Promoting
Objective Function for Neural Conversation Models", MMI-antiLM).

A generic output ("I don't know") is likely under any source, so a language model trained on the
target side likes it too. Each of a source's n-best outputs T is scored

    score(T) = log p(T | S) - lambda x log U(T) + length_weight x |T|

``log p(T | S)``: the score the search ranked T by (``Hypothesis.score``): the Seq2Seq model's
log-probability of T and its end with ``length_penalty: none`` and no processors (Li et al.'s
setting), else that sum as the search normalised and penalised it; so ``lambda = 0`` with
``length_weight = 0`` keeps the search's order. ``log U(T)``: the language model's
log-probability of T's first ``gamma`` tokens (the line end counts as a token when T has fewer;
the later tokens, which depend less on a generic start, are left to the Seq2Seq model, as in
Li et al.). ``|T|``: T's target tokens. The best-scored output is the answer.

The language model reads the output *text* through its own tokenizer and vocabulary, so its run
need not share the Seq2Seq run's target vocabulary (``gamma`` counts the language model's tokens;
a word outside its vocabulary is its ``<unk>``). Train it on the target side of the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from seqlab.config import DecodingConfig, load_config
from seqlab.errors import ConfigError
from seqlab.predictors.language_model import LanguageModelPredictor
from seqlab.ranges import MMI_LAMBDA, MMI_LENGTH_WEIGHT
from seqlab.rundir.names import CONFIG_FILE
from seqlab.rundir.read import require_run_dir

_DEFAULTS = DecodingConfig()  # the settings' defaults are the decoding section's


def load_language_model(
    run_dir: str | Path, device: str = "cpu", verify: bool = True
) -> LanguageModelPredictor:
    """The language-model run at ``run_dir``; a ConfigError naming its family when it is another."""
    run_dir = Path(run_dir)
    require_run_dir(run_dir)
    task = load_config(run_dir / CONFIG_FILE).task
    if task != "language_model":
        raise ConfigError(
            f"mmi_lm = {run_dir}: a {task} run; MMI reranking needs a language-model run trained on "
            "the target side (task: language_model)"
        )
    return LanguageModelPredictor(run_dir, device, verify=verify)


class MMIReranker:
    """Scores n-best outputs with the MMI anti-language-model objective of the module doc."""

    def __init__(
        self,
        lm: LanguageModelPredictor,
        lam: float = _DEFAULTS.mmi_lambda,
        gamma: int = _DEFAULTS.mmi_gamma,
        length_weight: float = _DEFAULTS.mmi_length_weight,
    ) -> None:
        self.lm = lm
        self.lam = MMI_LAMBDA.check("mmi_lambda", lam)
        if isinstance(gamma, bool) or not isinstance(gamma, int) or gamma < 1:
            raise ConfigError(f"mmi_gamma = {gamma!r}: must be an integer >= 1 (language-model tokens)")
        self.gamma = gamma
        self.length_weight = MMI_LENGTH_WEIGHT.check("mmi_length_weight", length_weight)

    def language_model_scores(self, texts: Sequence[str], batch_size: int = 64) -> list[float]:
        """log U(T) of each text: the language model's log-probability of its first ``gamma`` tokens."""
        return [sum(row[: self.gamma]) for row in self.lm.token_log_probs(texts, batch_size)]

    def scores(
        self,
        texts: Sequence[str],
        search_scores: Sequence[float],
        lengths: Sequence[int],
        batch_size: int = 64,
    ) -> list[float]:
        """The MMI score of each output from its ``texts``, its ``search_scores`` (log p(T|S) of the
        module doc) and its ``lengths`` in target tokens (three aligned lists)."""
        if not len(texts) == len(search_scores) == len(lengths):
            raise ConfigError(f"{len(texts)} texts, {len(search_scores)} scores, {len(lengths)} lengths")
        anti = self.language_model_scores(texts, batch_size) if self.lam else [0.0] * len(texts)
        return [
            s - self.lam * u + self.length_weight * n
            for s, u, n in zip(search_scores, anti, lengths, strict=True)
        ]


def check_mmi_search(beam_size: int, sampling: bool) -> None:
    """MMI reranking needs an n-best list: beam search of width >= 2; otherwise a ConfigError."""
    if sampling:
        raise ConfigError(
            "mmi_lm: MMI reranking reranks a beam's n-best list; it does not work with sampling"
        )
    if beam_size < 2:
        raise ConfigError(
            f"mmi_lm: MMI reranking needs an n-best list to rerank: beam search with beam_size >= 2 "
            f"(got beam_size = {beam_size})"
        )


def rerank_order(scores: Sequence[float]) -> list[int]:
    """Indices of ``scores``, best first; ties keep the search's order (a stable sort)."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])
