"""Pretraining for Seq2Seq: word vectors for the embeddings, language models for encoder and decoder.

Two ways to start a Seq2Seq model from more than its pairs, each off by default:

- ``model.source_vectors`` / ``model.target_vectors``: word2vec / GloVe / fastText text vectors for
  the source and the target embedding (only ``source_vectors`` when ``model.share_embeddings``),
  read by :func:`seqlab.text.vectors.load_pretrained_vectors`; ``model.freeze_vectors`` freezes the
  embeddings filled this way (again on ``--resume``). The coverage (found / total, missing examples)
  is logged.
- ``model.init_encoder_from`` / ``model.init_decoder_from``: a ``language_model`` run trained on that
  side's text (Ramachandran et al. 2017). Copied, like ``model.init_from`` does
  (:mod:`seqlab.training.warm_start`): the embedding row by row for every token of the side's
  vocabulary the language model also has (never the padding row); each recurrent tensor of layer
  ``k`` (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``) from the language model's layer
  ``k`` when the shapes agree; for the decoder also the output layer, row by row, when it is as
  wide as the language model's. A bidirectional encoder takes the language model's weights in its
  forward direction only: a left-to-right model has no backward direction, which keeps its initial
  values. Layers above the first of a bidirectional encoder read both directions and so differ in
  shape (skipped). A decoder whose first layer reads more than the embedding (Bahdanau's context,
  input feeding, Cho's context) takes the language model's input weights in the embedding's columns,
  which come first; the other columns keep their initial values. Every tensor is listed in the log,
  copied or skipped with the reason.

The runs are checked before training writes anything (:func:`check_pretrain_sources`): a missing
path, a directory that is no run, a run that is not a language model or has another cell is refused
with the key named. Not in the config's own check: a trained run's config.yaml must still load after
the language model it started from has moved.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import torch
import yaml
from torch import Tensor, nn

from seqlab.config import ExperimentConfig
from seqlab.errors import ConfigError
from seqlab.rundir.names import CONFIG_FILE
from seqlab.text.vectors import load_pretrained_vectors
from seqlab.training.warm_start import WarmStartReport, source_parts

logger = logging.getLogger(__name__)

SIDES = {"encoder": "init_encoder_from", "decoder": "init_decoder_from"}
_LM_RECURRENT = re.compile(r"recurrent\.(\d+)\.((?:weight|bias)_(?:ih|hh))_l(\d+)(?:_raw)?$")


def check_pretrain_sources(cfg: ExperimentConfig) -> None:
    """Refuse ``model.init_encoder_from`` / ``init_decoder_from`` naming no language-model run of the
    same cell (ConfigError naming the key, the path and what is wrong)."""
    for key in SIDES.values():
        value = getattr(cfg.model, key)
        if value is None:
            continue
        path = Path(value)
        where = f"model.{key} = {value!r}"
        if not path.is_dir():
            raise ConfigError(f"{where}: no such directory (a language_model run directory)")
        config_path = path / CONFIG_FILE
        if not config_path.is_file():
            raise ConfigError(f"{where}: not a seqlab run directory (no {CONFIG_FILE})")
        try:
            raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise ConfigError(f"{where}: {config_path} is not a readable config ({error})") from None
        task = raw.get("task", "language_model") if isinstance(raw, dict) else None
        if task != "language_model":
            raise ConfigError(
                f"{where}: a {task} run; {key} takes a language_model run trained on the "
                f"{'source' if key == SIDES['encoder'] else 'target'} side's text"
            )
        cell = (raw.get("model") or {}).get("cell", "lstm")
        if cell != cfg.model.cell:
            raise ConfigError(f"{where}: its model.cell is {cell!r}, this model's is {cfg.model.cell!r}")


def _rows(
    target: Tensor, value: Tensor, tokens: Sequence[str], source_tokens: Sequence[str], skip: int | None
) -> int:
    """Copy ``value``'s rows into ``target``'s for the tokens both lists have (never row ``skip``);
    returns the number of rows copied."""
    index = {token: i for i, token in enumerate(source_tokens)}
    pairs = [(row, index[t]) for row, t in enumerate(tokens) if t in index and row != skip]
    if pairs:
        rows, from_rows = zip(*pairs, strict=True)
        target[list(rows)] = value[list(from_rows)].to(target.dtype)
    return len(pairs)


def _lm_layers(state: dict[str, Tensor]) -> dict[tuple[str, int], Tensor]:
    """The language model's recurrent tensors by (kind, layer): ``recurrent.0.weight_ih_l1`` (one
    stack) and ``recurrent.1.weight_ih_l0`` (one stack a layer, locked dropout) are both layer 1; a
    weight-dropped LSTM's ``weight_hh_l0_raw`` is its ``weight_hh_l0`` (the weight used at inference)."""
    layers = {}
    for name, value in state.items():
        match = _LM_RECURRENT.match(name)
        if match:
            layers[(match.group(2), int(match.group(1)) + int(match.group(3)))] = value
    return layers


@torch.no_grad()
def _leading_columns(value: Tensor, target: Tensor) -> bool:
    """``target`` [G, E + extra] has ``value`` [G, E] as its first columns' shape."""
    return value.shape[0] == target.shape[0] and value.shape[1] < target.shape[1]


def _copy_recurrent(
    rnn: nn.Module,
    prefix: str,
    lm: dict[tuple[str, int], Tensor],
    report: WarmStartReport,
    leading_input: bool = False,
) -> None:
    """Copy layer k's forward tensors of ``rnn`` from the language model's layer k where shapes agree.

    ``leading_input``: the first layer's input starts with the embedding and goes on (the decoder's
    context or input feed): its ``weight_ih`` takes the language model's in those first columns."""
    for name, target in rnn.named_parameters():
        match = re.fullmatch(r"((?:weight|bias)_(?:ih|hh))_l(\d+)(_reverse)?", name)
        full = f"{prefix}.{name}"
        if match is None:
            report.skipped.append(f"{full}: not a layer of a language model")
            continue
        if match.group(3):
            report.skipped.append(f"{full}: backward direction; a left-to-right language model has none")
            continue
        value = lm.get((match.group(1), int(match.group(2))))
        if value is None:
            report.skipped.append(f"{full}: missing (the language model has no layer {match.group(2)})")
        elif leading_input and name == "weight_ih_l0" and _leading_columns(value, target):
            width = value.shape[1]
            target[:, :width] = value.to(target.dtype)
            report.copied.append(
                f"{full}[:, :{width}] (the embedding's columns; the other {target.shape[1] - width} "
                "keep their initial values)"
            )
        elif value.shape != target.shape:
            report.skipped.append(f"{full}: shape {tuple(value.shape)} vs {tuple(target.shape)}")
        else:
            target.copy_(value.to(target.dtype))
            report.copied.append(full)


@torch.no_grad()
def init_side_from_lm(
    model: nn.Module, side: str, run_dir: str | Path, tokens: Sequence[str], embedding_taken: bool = False
) -> WarmStartReport:
    """Copy a language model's embedding and recurrent layers into ``model``'s encoder or decoder.

    Args:
        model: a freshly built ``Seq2SeqModel``.
        side: ``encoder`` or ``decoder``.
        run_dir: a trained ``language_model`` run.
        tokens: that side's vocabulary, in id order (row ``i`` of its embedding is ``tokens[i]``).
        embedding_taken: the decoder's embedding is the encoder's (shared) and was already filled.

    Returns the :class:`WarmStartReport` (see the module docstring for what is copied).
    """
    run_dir = Path(run_dir)
    lm_model, lm_tokens, _, _ = source_parts(run_dir)
    state = lm_model.state_dict()
    report = WarmStartReport(str(run_dir), key=SIDES[side])
    part = model.encoder if side == "encoder" else model.decoder
    name = f"{side}.embedding.weight"
    embedding = part.embedding.weight
    if embedding_taken:
        report.skipped.append(f"{name}: shared with the encoder, taken from init_encoder_from")
    elif state["embedding.weight"].shape[1] != embedding.shape[1]:
        report.skipped.append(f"{name}: width {state['embedding.weight'].shape[1]} vs {embedding.shape[1]}")
    else:
        report.rows_found = _rows(embedding, state["embedding.weight"], tokens, lm_tokens, model.pad_id)
        report.rows_total = len(tokens)
        report.copied.append(name)
    _copy_recurrent(part.rnn, f"{side}.rnn", _lm_layers(state), report, leading_input=side == "decoder")
    if side == "decoder":
        _copy_output(model, state, tokens, lm_tokens, report)
    return report


def _copy_output(
    model: nn.Module,
    state: dict[str, Tensor],
    tokens: Sequence[str],
    lm_tokens: Sequence[str],
    report: WarmStartReport,
) -> None:
    """The decoder's output layer from the language model's, row by row, when as wide."""
    weight, bias = model.output.weight, model.output.bias
    if weight is model.target_embedding.weight:
        report.skipped.append("output.weight: tied to the target embedding")
    elif state["decoder.weight"].shape[1] != weight.shape[1]:
        report.skipped.append(f"output.weight: width {state['decoder.weight'].shape[1]} vs {weight.shape[1]}")
    else:
        _rows(weight, state["decoder.weight"], tokens, lm_tokens, None)
        report.copied.append("output.weight")
    _rows(bias, state["decoder.bias"], tokens, lm_tokens, None)
    report.copied.append("output.bias")


def _load_side_vectors(
    embedding: nn.Embedding, path: str, tokens: Sequence[str], freeze: bool, side: str
) -> None:
    report = load_pretrained_vectors(embedding, path, tokens, freeze=freeze)
    missing = report["missing_examples"][:5]
    logger.info(
        "%s vectors %s: %d of %d vocabulary tokens found (coverage %.1f%%)%s%s",
        side,
        path,
        report["found"],
        report["total"],
        100 * report["coverage"],
        "; frozen" if freeze else "",
        f"; missing e.g. {', '.join(missing)}" if missing else "",
    )


def pretrain_seq2seq(
    cfg: ExperimentConfig,
    model: nn.Module,
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    resume: bool,
) -> None:
    """Apply the config's vectors and language-model starts to a freshly built ``model``.

    On ``resume`` the weights come from the checkpoint: only the frozen embeddings are frozen again."""
    m = cfg.model
    sides = (
        (m.source_vectors, model.source_embedding, source_tokens, "source"),
        (m.target_vectors, model.target_embedding, target_tokens, "target"),
    )
    for path, embedding, tokens, side in sides:
        if path is None:
            continue
        if resume:
            embedding.weight.requires_grad_(not m.freeze_vectors)
        else:
            _load_side_vectors(embedding, path, tokens, m.freeze_vectors, side)
    if resume:
        return
    for side, tokens in (("encoder", source_tokens), ("decoder", target_tokens)):
        run = getattr(m, SIDES[side])
        if run is not None:
            shared = model.source_embedding is model.target_embedding
            taken = side == "decoder" and shared and m.init_encoder_from is not None
            report = init_side_from_lm(model, side, run, tokens, taken)
            logger.info("%s", report.summary())
            for line in report.copied:
                logger.info("  copied %s", line)
