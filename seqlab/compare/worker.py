"""One contender's run, start to finish: train (or resume), decode, measure, write ``result.json``.

``python -m seqlab.compare.worker REPORT_DIR NAME [SEED]`` is what :mod:`seqlab.compare.run` starts
for each contender (with the spec's ``seeds``: for each contender and seed), so each run has a
process of its own: its peak memory is its own (``ru_maxrss``), its thread setting is its own, and
a crash leaves the others alone. The run reads the spec frozen in ``REPORT_DIR/spec.yaml``;
``result.json`` in its run directory, written atomically last, marks it finished.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import resource
import sys
from pathlib import Path
from typing import Any

import torch

from seqlab.compare.results import CONTENDER_RESULT
from seqlab.compare.spec import CompareSpec, ContenderSpec, contender_config, data_config
from seqlab.compare.spec_file import load_spec
from seqlab.rundir.files import atomic_write_json
from seqlab.rundir.names import LAST, METRICS_FILE

logger = logging.getLogger(__name__)

SPEC_FILE = "spec.yaml"
CONTENDERS_DIR = "contenders"
LM_STATS_FILE = "pairs/stats.json"


def contender_dir(report_dir: str | Path, name: str, seed: int | None = None) -> Path:
    """A contender's run directory: ``contenders/NAME`` (one run, the spec's ``seed``), or
    ``contenders/NAME/seed_S`` for the run with seed S of a spec with ``seeds``."""
    base = Path(report_dir) / CONTENDERS_DIR / name
    return base if seed is None else base / f"seed_{seed}"


def seed_spec(spec: CompareSpec, seed: int | None) -> CompareSpec:
    """The spec of one run: ``spec`` itself, or with ``seed`` replaced by the run's seed."""
    return spec if seed is None else dataclasses.replace(spec, seed=seed)


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _device(spec: CompareSpec) -> str:
    if spec.device == "cuda" or (spec.device == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu"


def prepare_lm(spec: CompareSpec, run_dir: Path) -> None:
    """Write the language model's ``source <sep> target`` lines once (kept on resume)."""
    from seqlab.compare.lm_sep import prepare_lm_data

    stats = run_dir / LM_STATS_FILE
    if stats.is_file():
        return
    info = prepare_lm_data(data_config(spec), run_dir)
    atomic_write_json(
        stats,
        {
            "train_lines": info.train_lines,
            "valid_lines": info.valid_lines,
            "target_fraction": info.target_fraction,
            "source_truncate": info.source_truncate,
        },
    )


def _train_speed(run_dir: Path, contender: ContenderSpec) -> dict[str, float | None]:
    """Means of the Trainer's logged tokens/s (scored tokens) and target tokens/s (comparable across
    families: a Seq2Seq batch's target tokens, the target side of the LM's lines). A log from before
    ``target_tokens_per_s`` was logged takes the LM stream's target share instead."""
    from seqlab.compare.figures import read_metrics_log

    records = [r for r in read_metrics_log(run_dir / METRICS_FILE) if r.get("split") == "train"]
    speeds = [r["tokens_per_s"] for r in records if r.get("tokens_per_s")]
    if not speeds:
        return {"tokens_per_s": None, "target_tokens_per_s": None}
    mean = sum(speeds) / len(speeds)
    targets = [r["target_tokens_per_s"] for r in records if r.get("target_tokens_per_s")]
    if targets:
        return {"tokens_per_s": mean, "target_tokens_per_s": sum(targets) / len(targets)}
    share = 1.0
    if contender.kind == "lm_sep":
        share = json.loads((run_dir / LM_STATS_FILE).read_text(encoding="utf-8"))["target_fraction"]
    return {"tokens_per_s": mean, "target_tokens_per_s": mean * share}


def load_translator(run_dir: Path, contender: ContenderSpec, device: str) -> Any:
    """The contender's decoder: the Seq2Seq predictor (``seqlab.load``) or the LM adapter."""
    if contender.kind == "lm_sep":
        from seqlab.compare.lm_sep import LMSepTranslator

        stats = json.loads((run_dir / LM_STATS_FILE).read_text(encoding="utf-8"))
        return LMSepTranslator(run_dir, device, stats.get("source_truncate"))
    import seqlab

    return seqlab.load(run_dir, device)


def eval_pairs(spec: CompareSpec) -> tuple[list[str], list[str]]:
    """The held-out pairs every contender is scored on (a seeded sample of the validation split)."""
    from seqlab.compare.measure import eval_sample
    from seqlab.data.corpora.seq2seq import read_seq2seq_splits

    _, valid = read_seq2seq_splits(data_config(spec))
    picked = [valid.pairs[i] for i in eval_sample(len(valid.pairs), spec.evaluation.max_examples, spec.seed)]
    return [p.source for p in picked], [p.target for p in picked]


def _memory(device: str, measured: bool, baseline: float, train_peak: float) -> dict[str, Any]:
    """The ``memory`` entry of a result: peak RSS of this process (CPU) or of CUDA allocations."""
    if device == "cuda":
        peak = max(train_peak, torch.cuda.max_memory_allocated() / 2**20)
        return {
            "peak_mb": peak,
            "train_peak_mb": train_peak,
            "baseline_mb": None,
            "how": "torch.cuda.max_memory_allocated",
        }
    if not measured:
        return {
            "peak_mb": None,
            "train_peak_mb": None,
            "baseline_mb": None,
            "how": "not measured (in-process run)",
        }
    return {
        "peak_mb": peak_rss_mb(),
        "train_peak_mb": train_peak,
        "baseline_mb": baseline,
        "how": "ru_maxrss of the contender's process",
    }


def count_parameters(model: torch.nn.Module) -> int:
    """Trainable values; a tied matrix counts once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def run_contender(
    report_dir: str | Path, name: str, measure_memory: bool = True, seed: int | None = None
) -> dict[str, Any]:
    """Train (resuming a half-finished run), measure and write ``result.json``; returns the result.
    ``seed``: which run of a spec with ``seeds`` (None: the single run, with the spec's ``seed``)."""
    from seqlab.compare.measure import measure
    from seqlab.training.checkpoint import checkpoint_exists
    from seqlab.training.pipeline import train

    report_dir = Path(report_dir)
    baseline = peak_rss_mb()
    spec = seed_spec(load_spec(report_dir / SPEC_FILE), seed)
    contender = spec.contender(name)
    run_dir = contender_dir(report_dir, name, seed)
    cfg = contender_config(spec, contender, run_dir)
    if contender.kind == "lm_sep":
        prepare_lm(spec, run_dir)
    device = _device(spec)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    resume = checkpoint_exists(run_dir / LAST)
    logger.info("%s: %s training (%s)", name, "resuming" if resume else "starting", contender.describe())
    # no last/: nothing to keep; a start that crashed before its first checkpoint starts over
    summary = train(cfg, run_dir, resume=resume, overwrite=not resume)
    train_peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else peak_rss_mb()
    translator = load_translator(run_dir, contender, device)
    if spec.threads:
        torch.set_num_threads(spec.threads)
    sources, refs = eval_pairs(spec)
    # both translators keep the pair pipeline (Seq2SeqPipeline): references tokenized as outputs are
    measured = measure(translator, spec, sources, refs, translator.pipeline.target_tokens)
    memory = _memory(device, measure_memory, baseline, train_peak)
    result = {
        "name": name,
        "kind": contender.kind,
        "cell": contender.cell,
        "attention": contender.attention if contender.kind == "seq2seq" else None,
        "description": contender.describe(),
        "run_dir": run_dir.relative_to(report_dir).as_posix(),
        "seed": spec.seed,
        "lm_loss": getattr(contender, "loss", "all") if contender.kind == "lm_sep" else None,
        "parameters": count_parameters(
            translator.model if contender.kind == "seq2seq" else translator.model.model
        ),
        "train": {
            "wall_s": summary.get("elapsed_s"),
            "steps": summary.get("step"),
            "epochs": summary.get("epoch"),
            "target_tokens": summary.get("target_tokens"),  # None: not counted (older Trainer)
            "stop_reason": summary.get("stop_reason"),
            "resumed": resume,
            **_train_speed(run_dir, contender),
        },
        "memory": memory,
        **measured,
    }
    atomic_write_json(run_dir / CONTENDER_RESULT, result)
    return result


def main(argv: list[str] | None = None) -> int:
    from seqlab.errors import SeqlabError

    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3) or (len(args) == 3 and not args[2].lstrip("-").isdigit()):
        print("usage: python -m seqlab.compare.worker REPORT_DIR CONTENDER [SEED]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    try:
        run_contender(args[0], args[1], seed=int(args[2]) if len(args) == 3 else None)
    except SeqlabError as exc:
        print(f"seqlab compare ({args[1]}): error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
