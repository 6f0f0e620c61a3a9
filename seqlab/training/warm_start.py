"""Warm start (``model.init_from``): begin training from the weights of another trained run.

The classic transfer step for small labelled sets: train a classifier on a large related task
(IMDB reviews), then fine-tune it on the small one (SST-2 sentences), or start a tagger or
classifier from a language model's embedding and LSTM. The two runs may have different
vocabularies and label sets, so parameters are matched by meaning, not by position:

- token-indexed tensors (the word embedding) are copied row by row for every token of this
  run's vocabulary that the other run also has; the other rows keep their initial values;
- label-indexed tensors (the output layer of a classifier or tagger) are copied only when both
  runs have the same labels in the same order;
- character-indexed tensors (the tagger's character features) only when the character lists
  are equal;
- every other parameter when the name and shape are the same in both models.

Nothing is copied silently: :class:`WarmStartReport` lists what was copied and what was skipped
and why, and the pipeline logs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from seqlab.config import load_config
from seqlab.data.corpora.labelled import TextPipeline
from seqlab.errors import CheckpointError
from seqlab.models.factory import build_model
from seqlab.rundir.names import CONFIG_FILE, VOCAB_FILE
from seqlab.rundir.read import check_run, load_weights, require_run_dir
from seqlab.text.vocab import Vocabulary

TOKEN_INDEXED = ("embedding.weight",)
LABEL_INDEXED = ("output.weight", "output.bias")
CHAR_PREFIX = "char_encoder."


@dataclass
class WarmStartReport:
    """What :func:`warm_start` did: ``copied`` and ``skipped`` parameter names (with a reason),
    and the embedding rows found in the other run's vocabulary."""

    source: str
    key: str = "init_from"
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rows_found: int = 0
    rows_total: int = 0

    def summary(self) -> str:
        coverage = f"{self.rows_found} of {self.rows_total} vocabulary tokens" if self.rows_total else "no"
        lines = [
            f"{self.key} {self.source}: copied {len(self.copied)} tensors ({coverage} embedding rows)"
            f"; skipped {len(self.skipped)}"
        ]
        lines += [f"  skipped {reason}" for reason in self.skipped]
        return "\n".join(lines)


def source_parts(run_dir: Path) -> tuple[nn.Module, list[str], list[str] | None, list[str] | None]:
    """The other run's model, vocabulary tokens, labels (None for a language model) and characters.

    Read straight from the run directory (verified against its manifests), not through
    :func:`seqlab.load`: training sits below the predictors and never imports them."""
    require_run_dir(run_dir)
    check_run(run_dir, verify=True)
    cfg = load_config(run_dir / CONFIG_FILE)
    if cfg.task == "language_model":
        vocab = Vocabulary.load(run_dir / VOCAB_FILE)
        model = build_model(cfg, len(vocab))
        tokens, labels, chars = list(vocab.itos), None, None
    elif cfg.task in ("classifier", "tagger"):
        pipeline = TextPipeline.load(run_dir)
        chars = list(pipeline.chars.itos) if getattr(pipeline, "chars", None) is not None else None
        model = build_model(cfg, len(pipeline.vocab), len(pipeline.labels), len(chars) if chars else None)
        tokens, labels = list(pipeline.vocab.itos), list(pipeline.labels)
    else:
        raise CheckpointError(
            f"model.init_from = {run_dir}: a {cfg.task} run; init_from takes a "
            "language_model, classifier or tagger run"
        )
    load_weights(run_dir, model)
    return model.eval(), tokens, labels, chars


@torch.no_grad()
def warm_start(
    model: nn.Module,
    run_dir: str | Path,
    tokens: Sequence[str],
    labels: Sequence[str] | None,
    chars: Sequence[str] | None = None,
) -> WarmStartReport:
    """Copy the matching weights of the trained run ``run_dir`` into ``model`` (in place).

    Args:
        model: the freshly built model; its ``embedding.weight`` row ``i`` belongs to ``tokens[i]``.
        run_dir: a trained seqlab run directory (language model, classifier or tagger).
        tokens: this run's vocabulary, in id order.
        labels: this run's labels in id order (None for a language model).
        chars: this run's character list (tagger with character features), else None.

    Returns a :class:`WarmStartReport`. Raises CheckpointError when ``run_dir`` is not a run.
    """
    run_dir = Path(run_dir)
    source_model, source_tokens, source_labels, source_chars = source_parts(run_dir)
    source = source_model.state_dict()
    report = WarmStartReport(str(run_dir))
    for name, target in model.state_dict().items():
        # a language model keeps its single LSTM stack in a list: recurrent.0.* is recurrent.*
        found = next((n for n in (name, name.replace("recurrent.", "recurrent.0.", 1)) if n in source), None)
        if found is None:
            report.skipped.append(f"{name}: not in {run_dir.name}'s model")
            continue
        value = source[found]
        if name in TOKEN_INDEXED:
            if value.shape[1:] != target.shape[1:]:
                report.skipped.append(f"{name}: width {tuple(value.shape[1:])} vs {tuple(target.shape[1:])}")
                continue
            index = {token: i for i, token in enumerate(source_tokens)}
            pairs = [(row, index[t]) for row, t in enumerate(tokens) if t in index]
            if pairs:
                rows, from_rows = zip(*pairs, strict=True)
                target[list(rows)] = value[list(from_rows)].to(target.dtype)
            report.rows_found, report.rows_total = len(pairs), len(tokens)
            report.copied.append(name)
            continue
        if name in LABEL_INDEXED and list(labels or []) != list(source_labels or []):
            report.skipped.append(f"{name}: the label sets differ")
            continue
        if name.startswith(CHAR_PREFIX) and list(chars or []) != list(source_chars or []):
            report.skipped.append(f"{name}: the character lists differ")
            continue
        if value.shape != target.shape:
            report.skipped.append(f"{name}: shape {tuple(value.shape)} vs {tuple(target.shape)}")
            continue
        target.copy_(value.to(target.dtype))
        report.copied.append(name)
    return report
