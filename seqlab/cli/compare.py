"""``seqlab compare`` and ``seqlab demo`` (the comparison harness), with ``seqlab probe`` between them."""

from __future__ import annotations

import argparse

from seqlab.cli.probe import add_probe_parser
from seqlab.errors import ConfigError


def _cmd_compare(args: argparse.Namespace) -> int:
    from seqlab.compare.run import report_only, run_compare

    if args.report_only:
        report_only(args.output)
        return 0
    if args.spec is None:
        raise ConfigError("seqlab compare: give SPEC.yaml (or --report-only to redraw an existing report)")
    run_compare(args.spec, args.output, isolate=not args.in_process)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from seqlab.compare.demo import run_demo

    run_demo(run_dir=args.run_dir, minutes=args.minutes)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``compare``, ``probe`` and ``demo`` verbs, in that order."""
    p = sub.add_parser(
        "compare",
        help="train an LSTM language model and Seq2Seq models (no attention, Bahdanau, Luong) on one task "
        "under one budget; report quality, size, speed, memory, and a verdict",
    )
    p.add_argument("spec", nargs="?", help="comparison spec (YAML), e.g. seqlab/configs/demo_compare.yaml")
    p.add_argument("-o", "--output", required=True, metavar="REPORT_DIR", help="where runs and report go")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="redraw report.md/report.html and the table from REPORT_DIR/results.json (no training)",
    )
    p.add_argument(
        "--in-process",
        action="store_true",
        help="train the contenders one by one in this process (peak memory is then not measured)",
    )
    p.set_defaults(func=_cmd_compare)

    add_probe_parser(sub)

    p = sub.add_parser(
        "demo",
        help="the main job: LSTM language model vs Seq2Seq (none, Bahdanau, Luong) on CMU dictionary G2P",
    )
    p.add_argument(
        "--run-dir",
        default="runs/demo",
        help="the report folder (default runs/demo; rerun resumes or shows it; another spec gets a suffix)",
    )
    p.add_argument(
        "--minutes",
        type=float,
        help="the cap on training minutes per contender (default: the packaged spec's 6; its budget of "
        "1.2 million target tokens still applies, whichever comes first)",
    )
    p.set_defaults(func=_cmd_demo)
