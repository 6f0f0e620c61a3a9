"""``seqlab export RUN --format onnx|torchscript -o OUT``: a trained model other programs can run.

What is written, by family (the graphs are in :mod:`seqlab.export.graphs` and
:mod:`seqlab.export.seq2seq`, the text side in :mod:`seqlab.export.text`):

- language model: ``lm_step.onnx`` / ``lm_step.pt`` — one decoding step;
- classifier: ``classifier.*`` — logits, probabilities and attention weights;
- tagger: ``tagger.*`` — per-token logits;
- seq2seq: ``encoder.*`` and ``decoder_step.*`` — run the encoder once, then the step in a loop.

Beside them, ``seqlab_export.json`` holds everything needed to use the files without seqlab: the
tokenizer's kind and settings (its files copied to ``tokenizer/``), the vocabulary (token list and
special ids), labels or tags, the inputs and outputs of each file with their shapes, and the
decoding conventions (which token starts a line or a sentence, which tokens are never produced).
ONNX files use the legacy TorchScript-based exporter (it keeps the LSTM as one ONNX ``LSTM`` op with
dynamic lengths); TorchScript files are traced and load with ``torch.jit.load``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from seqlab.errors import ConfigError
from seqlab.export.graphs import ClassifierGraph, Graph, LMStep, TaggerGraph
from seqlab.export.seq2seq import seq2seq_graphs
from seqlab.export.text import describe_text

FORMATS = ("onnx", "torchscript")
MANIFEST = "seqlab_export.json"
FORMAT_VERSION = 1
OPSET = 17
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}


@dataclass
class ExportResult:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    manifest: Path | None = None


# -- graphs per family -----------------------------------------------------------------------


def _lm_graphs(pred: Any) -> tuple[list[Graph], dict[str, Any]]:
    model = pred.model
    step = LMStep(model).eval()
    layers, hidden = model.cfg.num_layers, model.cfg.hidden_size
    tokens = torch.tensor([pred.vocab.eos_id, pred.vocab.eos_id])
    h = torch.zeros(layers, 2, hidden)
    inputs: dict[str, list[str | int]] = {"tokens": ["batch"], "h": [layers, "batch", hidden]}
    outputs: dict[str, list[str | int]] = {
        "logits": ["batch", len(pred.vocab)],
        "h_out": [layers, "batch", hidden],
    }
    example: tuple[torch.Tensor, ...] = (tokens, h)
    if step.has_cell_state:
        inputs["c"] = [layers, "batch", hidden]
        outputs["c_out"] = [layers, "batch", hidden]
        example = (tokens, h, torch.zeros_like(h))
    start = "zero states (h, c)"
    if model.line_start is not None:
        start = "the states in line_start.safetensors (h, c: [layers, 1, hidden], repeated over the batch)"
    usage = {
        "start_token": "<eos>",
        "lm_mode": pred.config.data.lm_mode,
        "how": f"feed <eos> then the prompt's ids one step at a time from {start}; then "
        "pick a token from the logits and feed it back. <eos> marks a line end.",
        "never_generate": ["<pad>", "<bos>", "<unk>"],
    }
    return [Graph("lm_step", step, example, inputs, outputs)], usage


def _classifier_graphs(pred: Any) -> tuple[list[Graph], dict[str, Any]]:
    graph = ClassifierGraph(pred.model).eval()
    example = (torch.tensor([[4, 5, 6], [4, 5, 0]]), torch.tensor([3, 2]))
    classes = len(pred.labels)
    inputs: dict[str, list[str | int]] = {"tokens": ["batch", "time"], "lengths": ["batch"]}
    outputs: dict[str, list[str | int]] = {
        "logits": ["batch", classes],
        "probabilities": ["batch", classes],
        "attention": ["batch", "time"],
    }
    usage = {
        "how": "tokens: right-padded with pad_id, lengths >= 1; an empty text is [unk_id]; texts longer "
        "than max_length tokens are cut. The label of row b is labels[argmax(probabilities[b])].",
        "max_length": pred.config.data.max_length,
        "attention_is_learned": graph.attention is not None,
    }
    return [Graph("classifier", graph, example, inputs, outputs)], usage


def _tagger_graphs(pred: Any) -> tuple[list[Graph], dict[str, Any]]:
    graph = TaggerGraph(pred.model).eval()
    tokens, lengths = torch.tensor([[4, 5, 6], [4, 5, 0]]), torch.tensor([3, 2])
    inputs: dict[str, list[str | int]] = {"tokens": ["batch", "time"], "lengths": ["batch"]}
    example: tuple[torch.Tensor, ...] = (tokens, lengths)
    if graph.has_chars:
        chars = torch.tensor([[[4, 5], [6, 0], [4, 0]], [[5, 0], [6, 4], [0, 0]]])
        char_lengths = torch.tensor([[2, 1, 1], [1, 2, 0]])
        example = (tokens, lengths, chars, char_lengths)
        inputs.update({"chars": ["batch", "time", "width"], "char_lengths": ["batch", "time"]})
    outputs: dict[str, list[str | int]] = {"logits": ["batch", "time", len(pred.labels)]}
    usage = {
        "how": "split the text into words (whitespace for a word tokenizer; lowercase the word ids "
        "if the tokenizer lowercases, never the characters); tokens right-padded with pad_id; chars: "
        "each word's character ids (chars vocabulary, unk for unseen ones), right-padded, "
        "char_lengths 0 at padding words. The tag of word t is tags[argmax(logits[b, t])].",
        "max_length": pred.config.data.max_length,
    }
    return [Graph("tagger", graph, example, inputs, outputs)], usage


def graphs_for(pred: Any) -> tuple[list[Graph], dict[str, Any]]:
    """The graphs of ``pred``'s family and the usage notes for the manifest."""
    family = getattr(pred, "family", None) or pred.config.task
    if family == "language_model":
        return _lm_graphs(pred)
    if family == "classifier":
        return _classifier_graphs(pred)
    if family == "tagger":
        return _tagger_graphs(pred)
    if family == "seq2seq":
        if pred.config.model.copy_attention or pred.config.model.coverage:
            raise ConfigError(
                "model.copy_attention / model.coverage = true: such a model cannot be exported yet (its "
                "step needs each source's copy ids or coverage); use seqlab translate or seqlab serve"
            )
        return seq2seq_graphs(pred)
    raise ConfigError(
        f"task {family!r} cannot be exported (exported: language_model, classifier, tagger, seq2seq)"
    )


# -- writing ----------------------------------------------------------------------------------


def _dynamic_axes(graph: Graph) -> dict[str, dict[int, str]]:
    axes: dict[str, dict[int, str]] = {}
    for name, shape in {**graph.inputs, **graph.outputs}.items():
        named = {i: d for i, d in enumerate(shape) if isinstance(d, str)}
        if named:
            axes[name] = named
    return axes


def write_graph(graph: Graph, fmt: str, out_dir: Path) -> Path:
    """Write ``graph`` as ``out_dir/NAME.onnx`` or ``NAME.pt``."""
    path = out_dir / (graph.name + SUFFIX[fmt])
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and legacy-exporter notices; the tests check the result
        if fmt == "onnx":
            torch.onnx.export(
                graph.module,
                graph.example,
                str(path),
                dynamo=False,
                input_names=list(graph.inputs),
                output_names=list(graph.outputs),
                dynamic_axes=_dynamic_axes(graph),
                opset_version=OPSET,
                do_constant_folding=True,
            )
        else:
            traced = torch.jit.trace(graph.module, graph.example, check_trace=False)
            traced.save(str(path))
    return path


def prepare_output(out: Path, overwrite: bool = False) -> None:
    """Create the folder ``out``. Refuses (ConfigError) a path that is a file, a folder that already
    holds files unless ``overwrite``, and a folder that cannot be created or written to."""
    if out.exists() and not out.is_dir():
        raise ConfigError(
            f"-o {out}: an existing file, not a folder; export writes several files into a folder: "
            "give a new folder"
        )
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigError(
            f"-o {out}: the folder is not empty; give a new or empty folder, or --overwrite to "
            "replace the files of an earlier export there"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"-o {out}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ConfigError(f"-o {out}: the folder is not writable; give another folder")


def export_run(
    run_dir: str | Path,
    fmt: str,
    out_dir: str | Path,
    *,
    predictor: Any = None,
    overwrite: bool = False,
    verify: bool = True,
) -> ExportResult:
    """Export the model of ``run_dir`` in ``fmt`` ('onnx' or 'torchscript') into ``out_dir``, a new
    or empty folder (one with files only when ``overwrite``: see :func:`prepare_output`); the run is
    checked against its manifests first unless ``verify`` is False (see :func:`seqlab.api.load`)."""
    if fmt not in FORMATS:
        raise ConfigError(f"format = {fmt!r}: must be one of {', '.join(FORMATS)}")
    out = Path(out_dir)
    prepare_output(out, overwrite)
    if predictor is None:
        from seqlab.api import load

        predictor = load(run_dir, verify=verify)
    predictor.model.eval()
    graphs, usage = graphs_for(predictor)
    result = ExportResult(out)
    for graph in graphs:
        try:
            result.files.append(write_graph(graph, fmt, out))
        except ImportError as exc:  # the ONNX exporter's own dependencies
            message = f"ONNX export needs the export extra: pip install 'seqlab[export]' ({exc})"
            raise ConfigError(message) from None
    if getattr(predictor.model, "line_start", None) is not None:
        result.files.append(_copy_line_start(predictor.model.line_start, out))
    from seqlab import __version__

    manifest = {
        "format_version": FORMAT_VERSION,
        "seqlab_version": __version__,
        "family": getattr(predictor, "family", None) or predictor.config.task,
        "format": fmt,
        "opset": OPSET if fmt == "onnx" else None,
        "files": {
            g.name: {"file": p.name, "inputs": g.inputs, "outputs": g.outputs}
            for g, p in zip(graphs, result.files)
        },
        "dtypes": {"ids and lengths": "int64", "states, logits and probabilities": "float32"},
        **describe_text(predictor, out),
        "usage": usage,
    }
    result.manifest = out / MANIFEST
    result.manifest.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def _copy_line_start(state: Any, out: Path) -> Path:
    """The LM's line-start state beside its graphs (``line_start.safetensors``, keys h and c)."""
    from seqlab.models.line_start import save_line_start

    return save_line_start(out, state, {"note": "the state before the <eos> that starts a line"})


def summary(result: ExportResult) -> Sequence[str]:
    """Lines for the CLI: each file and its size."""
    lines = [f"{p} ({p.stat().st_size / 1024:.1f} KiB)" for p in result.files]
    if result.manifest is not None:
        lines.append(f"{result.manifest} (vocabularies, special tokens, inputs and outputs)")
    return lines
