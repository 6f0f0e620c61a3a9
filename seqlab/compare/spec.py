"""The comparison spec (``seqlab compare SPEC.yaml``): frozen dataclasses, validated at load.

A spec names one dataset (a Seq2Seq ``data`` section: a catalogue entry or files), one shared budget
(steps or wall-clock minutes, and a size limit in parameters), one seed, one set of decoding settings
and a list of contenders. Each contender becomes an ordinary :class:`~seqlab.config.ExperimentConfig`
(:func:`contender_config`), so every contender is validated, trained and loaded the way
``seqlab train`` would, and its run directory works with every other command.

Layout of a spec (every key but ``data`` has a default)::

    title: G2P on the CMU dictionary
    seed: 1
    metric: per                  # the task's metric: bleu, chrf, wer, per, exact_match, rouge_l,
                                 # bleu1, bleu2, distinct1, distinct2, frequent_share (dialogue)
    extra_metrics: [exact_match] # also reported, not judged
    data: {...}                  # a seq2seq data section, shared by every contender
    model: {...}                 # model keys shared by every contender (sizes, dropout)
    training: {...}              # Trainer keys shared by every contender (optimizer, schedule, ...)
    seq2seq: {model: {...}, data: {...}, training: {...}}  # extra keys for the Seq2Seq contenders
    lm: {model: {...}, data: {...}, training: {...}}       # extra keys for the language model
    budget: {max_steps | max_minutes, max_parameters}
    decoding: {beam_size, length_penalty, alpha, max_length, no_repeat_ngram, blocking_ngram, ...}
    evaluation: {max_examples, length_buckets, repetition_n, attention_examples}
    parallel: 1                  # contenders trained at once (each in its own process)
    threads: null                # torch threads per contender
    device: auto
    contenders:                  # default: lm_sep, s2s_none, s2s_bahdanau, s2s_luong
      - {name: s2s_luong_gru, kind: seq2seq, attention: luong, cell: gru, set: [model.hidden_size=96]}
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from seqlab.config import (
    DECODED_METRICS,
    METRICS_BY_TASK,
    DataConfig,
    ExperimentConfig,
    apply_override,
    config_from_dict,
    did_you_mean,
)
from seqlab.errors import ConfigError

# The task's metrics and the direction in which each improves: the decoded Seq2Seq metrics of the
# config's task table (seqlab.metrics.sequences computes them; bleu1/bleu2 are cumulative BLEU-n), and
# the dialogue diversity figures (seqlab.metrics.dialogue), which may be judged here but never select a
# training checkpoint.
METRICS = {
    **{name: METRICS_BY_TASK["seq2seq"][name] for name in DECODED_METRICS},
    "distinct1": "max",
    "distinct2": "max",
    "frequent_share": "min",
}
METRIC_LABELS = {
    "bleu1": "BLEU-1",
    "bleu2": "BLEU-2",
    "distinct1": "distinct-1 %",
    "distinct2": "distinct-2 %",
    "frequent_share": "top-10 outputs %",
    "bleu": "BLEU",
    "chrf": "chrF",
    "wer": "WER %",
    "per": "PER %",
    "exact_match": "exact match %",
    "rouge_l": "ROUGE-L",
}
CELLS = {"lstm": "lstm", "gru": "gru", "rnn": "rnn_tanh"}  # spec name -> ModelConfig.cell
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Keys the spec sets itself; a shared training section may not set them.
BUDGET_KEYS = {
    "seed": "seed",
    "max_steps": "budget.max_steps",
    "max_minutes": "budget.max_minutes",
    "max_epochs": "budget.max_steps or budget.max_minutes",
    "threads": "threads",
    "device": "device",
    "progress": "nothing (compare logs each contender into its run directory)",
}
FAMILY_SECTIONS = ("model", "data", "training")
LM_EPOCHS_CAP = 1000  # the budget, not the epoch count, ends training
LM_SEPARATOR = "<sep>"  # between source and target in the language model's lines


@dataclass(frozen=True)
class BudgetSpec:
    """The budget every contender gets: ``max_steps`` updates, ``max_minutes`` of wall-clock time or
    ``max_target_tokens`` target tokens taught (any of them: whichever comes first), and at most
    ``max_parameters`` trainable values. Target tokens are the unit that travels between machines
    and between families: a Seq2Seq batch's target tokens, the target side of the language model's
    lines (after ``<sep>``, with ``<eos>``) whichever tokens its loss scores."""

    max_steps: int | None = None
    max_minutes: float | None = None
    max_target_tokens: int | None = None
    max_parameters: int | None = None

    def check(self) -> list[str]:
        errors = []
        if self.max_steps is None and self.max_minutes is None and self.max_target_tokens is None:
            errors.append(
                "max_steps, max_minutes and max_target_tokens are all null: give the budget in steps, "
                "minutes or target tokens"
            )
        for name in ("max_steps", "max_target_tokens"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1 or null")
        if self.max_minutes is not None and self.max_minutes <= 0:
            errors.append(f"max_minutes = {self.max_minutes}: must be > 0 or null")
        if self.max_parameters is not None and self.max_parameters < 1:
            errors.append(f"max_parameters = {self.max_parameters}: must be >= 1 or null (no limit)")
        return errors

    @property
    def kind(self) -> str:
        """'steps', 'minutes', 'target tokens' or a '+' of them: what the contenders share."""
        limits = (
            ("steps", self.max_steps),
            ("minutes", self.max_minutes),
            ("target tokens", self.max_target_tokens),
        )
        parts = [name for name, value in limits if value]
        return "+".join(parts)


@dataclass(frozen=True)
class DecodingSpec:
    """One decoding setting for every contender. ``no_repeat_ngram`` applies to the quality figures;
    the repetition table decodes once more with ``no_repeat_ngram = blocking_ngram`` (0: skip)."""

    beam_size: int = 5
    length_penalty: Literal["none", "average", "gnmt"] = "gnmt"
    alpha: float = 0.6
    max_length: int = 200
    max_length_ratio: float | None = None
    no_repeat_ngram: int = 0
    blocking_ngram: int = 3
    batch_size: int = 64

    def check(self) -> list[str]:
        errors = []
        for name in ("beam_size", "max_length", "batch_size"):
            if getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1")
        for name in ("no_repeat_ngram", "blocking_ngram"):
            if getattr(self, name) < 0:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 0 (0 = off)")
        if self.alpha < 0:
            errors.append(f"alpha = {self.alpha}: must be >= 0")
        if self.max_length_ratio is not None and self.max_length_ratio <= 0:
            errors.append(f"max_length_ratio = {self.max_length_ratio}: must be > 0 or null")
        return errors

    def translate_kwargs(self, no_repeat_ngram: int | None = None) -> dict[str, Any]:
        """Keyword arguments of ``translate`` (the Seq2Seq predictor and the LM adapter share them)."""
        return {
            "beam_size": self.beam_size,
            "length_penalty": self.length_penalty,
            "alpha": self.alpha,
            "max_length": self.max_length,
            "max_length_ratio": self.max_length_ratio,
            "no_repeat_ngram": self.no_repeat_ngram if no_repeat_ngram is None else no_repeat_ngram,
            "batch_size": self.batch_size,
        }


@dataclass(frozen=True)
class EvaluationSpec:
    """What is measured after training, on the held-out (validation) pairs.

    ``max_examples``: the first N validation pairs (null: all). ``length_buckets``: source-length
    edges in tokens (empty: quantiles). ``repetition_n``: the n of the repeated-n-gram rate.
    ``attention_examples``: heatmaps per attention model. ``show_examples``: outputs listed.
    """

    max_examples: int | None = 1000
    length_buckets: tuple[int, ...] = ()
    repetition_n: int = 2
    attention_examples: int = 3
    show_examples: int = 8

    def check(self) -> list[str]:
        errors = []
        if self.max_examples is not None and self.max_examples < 1:
            errors.append(f"max_examples = {self.max_examples}: must be >= 1 or null (all)")
        if any(b <= a for a, b in zip(self.length_buckets, self.length_buckets[1:])) or any(
            e < 1 for e in self.length_buckets
        ):
            errors.append(f"length_buckets = {list(self.length_buckets)}: positive and strictly increasing")
        if self.repetition_n < 1:
            errors.append(f"repetition_n = {self.repetition_n}: must be >= 1")
        for name in ("attention_examples", "show_examples"):
            if getattr(self, name) < 0:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 0")
        return errors


@dataclass(frozen=True)
class ContenderSpec:
    """One contender. ``kind``: ``lm_sep`` (an LSTM language model over ``source <sep> target``,
    each line from a fresh state, decoded by prompting with the source and ``<sep>``) or ``seq2seq``
    (an encoder-decoder with ``attention`` none, bahdanau or luong). ``loss`` (lm_sep only): ``all``
    scores every token of the line (a plain language model), ``target`` only the target after
    ``<sep>`` (a prefix language model). ``set``: overrides of its config (``section.key=value``)."""

    name: str
    kind: Literal["lm_sep", "seq2seq"]
    cell: Literal["lstm", "gru", "rnn"] = "lstm"
    attention: Literal["none", "bahdanau", "luong"] | None = None
    loss: Literal["all", "target"] = "all"
    set: tuple[str, ...] = ()

    def check(self) -> list[str]:
        errors = []
        if self.kind == "seq2seq" and self.loss != "all":
            errors.append(f"loss = {self.loss!r}: only a language model (kind lm_sep) chooses its loss")
        if not NAME_PATTERN.match(self.name):
            errors.append(f"name = {self.name!r}: lowercase letters, digits and _, starting with a letter")
        if self.kind == "lm_sep" and self.attention not in (None, "none"):
            errors.append(f"attention = {self.attention!r}: a language model (kind lm_sep) has no attention")
        return errors

    @property
    def attention_kind(self) -> str:
        """The attention of a seq2seq contender ('none' when not set); 'none' for the LM."""
        return self.attention or "none"

    def describe(self) -> str:
        """One line for reports, e.g. 'Seq2Seq LSTM, Bahdanau attention'."""
        cell = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[self.cell]
        if self.kind == "lm_sep":
            scored = "every token" if self.loss == "all" else "target tokens only (prefix LM)"
            return f"{cell} language model over source <sep> target, loss on {scored}"
        if self.attention_kind == "none":
            return f"Seq2Seq {cell}, no attention (fixed-length vector)"
        return f"Seq2Seq {cell}, {self.attention_kind.capitalize()} attention"


DEFAULT_CONTENDERS = (
    ContenderSpec("lm_sep", "lm_sep"),
    ContenderSpec("s2s_none", "seq2seq", attention="none"),
    ContenderSpec("s2s_bahdanau", "seq2seq", attention="bahdanau"),
    ContenderSpec("s2s_luong", "seq2seq", attention="luong"),
)


@dataclass(frozen=True)
class CompareSpec:
    """A whole comparison. ``data``, ``model``, ``training`` and the per-family ``seq2seq`` / ``lm``
    sections are raw config sections (plain dicts, read-only by convention): each contender's
    config is built from them and validated by :func:`seqlab.config.config_from_dict`.

    ``seeds``: null trains each contender once, with ``seed``; a list trains each contender once per
    seed (each run a full replicate: the seed sets the hold-out split, the initialisation, the batch
    order and the evaluation sample, exactly as ``seed: S`` would). ``seed`` still seeds the
    bootstrap of the verdict."""

    data: dict[str, Any] = field(default_factory=dict)
    title: str = "LSTM vs Seq2Seq"
    seed: int = 1
    seeds: tuple[int, ...] | None = None
    metric: str = "bleu"
    extra_metrics: tuple[str, ...] = ()
    model: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    seq2seq: dict[str, Any] = field(default_factory=dict)
    lm: dict[str, Any] = field(default_factory=dict)
    budget: BudgetSpec = field(default_factory=BudgetSpec)
    decoding: DecodingSpec = field(default_factory=DecodingSpec)
    evaluation: EvaluationSpec = field(default_factory=EvaluationSpec)
    parallel: int = 1
    threads: int | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    contenders: tuple[ContenderSpec, ...] = DEFAULT_CONTENDERS

    def check(self) -> list[str]:
        errors = []
        if self.metric not in METRICS:
            choices = ", ".join(METRICS)
            errors.append(
                f"metric = {self.metric!r}: must be one of {choices}{did_you_mean(self.metric, METRICS)}"
            )
        if self.parallel < 1:
            errors.append(f"parallel = {self.parallel}: must be >= 1")
        if self.threads is not None and self.threads < 1:
            errors.append(f"threads = {self.threads}: must be >= 1 or null")
        if self.seeds is not None and not self.seeds:
            errors.append("seeds = []: give at least one seed, or null (train once, with seed)")
        seeds = list(self.seeds or ())
        repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
        if repeated:
            errors.append(f"seeds = {seeds}: each seed once (repeated: {', '.join(map(str, repeated))})")
        return errors

    @property
    def metric_mode(self) -> str:
        return METRICS[self.metric]

    @property
    def run_seeds(self) -> tuple[int | None, ...]:
        """The seed of each run of a contender: ``(None,)`` (one run, with ``seed``, in the
        single-seed layout) when ``seeds`` is null, else ``seeds``."""
        return (None,) if self.seeds is None else tuple(self.seeds)

    def contender(self, name: str) -> ContenderSpec:
        for contender in self.contenders:
            if contender.name == name:
                return contender
        names = [c.name for c in self.contenders]
        hint = did_you_mean(name, names)
        raise ConfigError(f"no contender {name!r}{hint}; the spec has {', '.join(names)}")


# ---------------------------------------------------------------------------------------------
# Contender configs
# ---------------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``extra``, sections merged key by key (both left untouched)."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def lm_pair_files(run_dir: str | Path) -> tuple[Path, Path]:
    """Where the LM contender's ``source <sep> target`` training and validation lines live."""
    pairs = Path(run_dir) / "pairs"
    return pairs / "train.txt", pairs / "valid.txt"


def contender_raw_config(spec: CompareSpec, contender: ContenderSpec, run_dir: str | Path) -> dict[str, Any]:
    """The contender's recipe as plain data (before validation)."""
    budget = {
        "seed": spec.seed,
        "max_steps": spec.budget.max_steps,
        "max_minutes": spec.budget.max_minutes,
        "max_target_tokens": spec.budget.max_target_tokens,
        "max_epochs": LM_EPOCHS_CAP,
        "threads": spec.threads,
        "device": spec.device,
        "progress": False,  # each contender logs into its own file; the compare command reports progress
    }
    family = spec.lm if contender.kind == "lm_sep" else spec.seq2seq
    model = _merge(spec.model, family.get("model", {}))
    model["cell"] = CELLS[contender.cell]
    training = _merge(_merge(spec.training, family.get("training", {})), budget)
    if contender.kind == "lm_sep":
        train, valid = lm_pair_files(run_dir)
        # Each pair is its own line, read from a fresh state (the state decoding starts from). A
        # line holds source and target, about twice a pair's padded length: twice the token budget
        # gives a batch about as many pairs as the Seq2Seq contenders'.
        defaults = {
            "tokenizer": {"kind": "word"},
            "add_eos": True,
            "lm_mode": "lines",
            "max_tokens": 2 * spec.data.get("max_tokens", DataConfig.max_tokens),
        }
        data = _merge(defaults, family.get("data", {}))
        data.update({"train": str(train), "valid": str(valid), "format": "text", "lm_loss": contender.loss})
        if data["lm_mode"] == "lines":
            data["target_separator"] = LM_SEPARATOR
        raw = {"task": "language_model", "data": data, "model": model, "training": training}
    else:
        model["attention"] = contender.attention_kind
        training.setdefault("metric", "loss")
        data = _merge(spec.data, family.get("data", {}))
        decoding = {k: v for k, v in spec.decoding.translate_kwargs().items() if k != "batch_size"}
        decoding["batch_size"] = spec.decoding.batch_size
        raw = {"task": "seq2seq", "data": data, "model": model, "training": training, "decoding": decoding}
    errors: list[str] = []
    for override in contender.set:
        apply_override(raw, override, errors)
    if errors:
        raise ConfigError(f"contender {contender.name}: " + "; ".join(errors))
    return raw


def contender_config(spec: CompareSpec, contender: ContenderSpec, run_dir: str | Path) -> ExperimentConfig:
    """The contender's validated config (ConfigError naming the contender and every problem)."""
    raw = contender_raw_config(spec, contender, run_dir)
    return config_from_dict(raw, f"contender {contender.name}")


def data_config(spec: CompareSpec) -> ExperimentConfig:
    """A Seq2Seq config holding the spec's data (and seed): what every contender reads its pairs
    from (the language model's lines are made from the same splits)."""
    reader = ContenderSpec("data", "seq2seq", attention="none")
    return contender_config(spec, reader, Path("REPORT_DIR") / "data")
