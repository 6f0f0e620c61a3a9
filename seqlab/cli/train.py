"""``seqlab train``: a YAML recipe into a run directory (:func:`seqlab.training.pipeline.train`)."""

from __future__ import annotations

import argparse
import os

from seqlab.cli.common import add_no_verify_argument


def _cmd_train(args: argparse.Namespace) -> int:
    from seqlab.config import load_config
    from seqlab.training.pipeline import train

    cfg = load_config(args.config, args.set or [])
    result = train(cfg, args.run_dir, resume=args.resume, overwrite=args.overwrite, verify=not args.no_verify)
    if os.environ.get("RANK", "0") == "0":
        print(_describe_result(result))
    return 0


def _describe_result(result: dict) -> str:
    where = f"step {result.get('step')} (epoch {result.get('epoch')})"
    line = f"done: stopped by {result.get('stop_reason')} at {where}"
    best = result.get("best") or {}
    metrics = [f"{k} {v:.4g}" for k, v in best.items() if k != "step" and isinstance(v, float)]
    if metrics:
        line += f"; best validation {', '.join(metrics)} at step {best.get('step')}"
    return line


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``train`` verb."""
    p = sub.add_parser(
        "train",
        help="train a model from a YAML recipe into a run directory",
        epilog="Exit status: 0 done, 2 an error in the input, 3 training stopped by a guard: "
        "training.max_bad_steps non-finite losses in a row, training.divergence_patience validations "
        "in a row whose loss is above training.divergence_factor times the loss before training, or "
        "a weight past training.max_abs_weight. The error says what fired, at which step, and which "
        "checkpoints are kept (best/ and model.safetensors when a validation improved).",
    )
    p.add_argument("config", help="YAML recipe, e.g. configs/ptb_word_small.yaml")
    p.add_argument("--run-dir", required=True, help="where config, vocabulary, weights and logs go")
    p.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set training.optimizer.lr=0.002 (repeatable)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue exactly from RUN_DIR/last with the run's config; only training.max_epochs, "
        "max_steps, max_minutes and max_target_tokens may change (to train longer); the run's files "
        "are checked against their manifests first",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run RUN_DIR already holds (its config, vocabularies, weights, checkpoints and "
        "metrics log; other files stay); without it train refuses a directory holding a run",
    )
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_train)
