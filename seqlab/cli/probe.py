"""``seqlab probe``: the argument parser and command, registered by :mod:`seqlab.cli.compare`
(between ``compare`` and ``demo``)."""

from __future__ import annotations

import argparse

from seqlab.errors import ConfigError
from seqlab.probe.settings import CELLS, TASK_NAMES, ProbeSettings


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _lags(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in _names(text))
    except ValueError:
        raise ConfigError(f"--lags takes comma-separated integers, e.g. 5,10,20, got {text!r}") from None


def add_probe_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``probe`` command to the ``seqlab`` subcommands."""
    d = ProbeSettings()
    p = sub.add_parser(
        "probe",
        help="long-dependency probe: train RNN, GRU and LSTM cells on the copy-memory task and the adding "
        "problem at growing lags; plot accuracy/error against lag and say where each cell fails",
    )
    p.add_argument(
        "--cells", default=",".join(d.cells), help=f"comma-separated, of {', '.join(CELLS)} (default all)"
    )
    p.add_argument(
        "--lags", default=",".join(map(str, d.lags)), help="comma-separated lags (default %(default)s)"
    )
    p.add_argument(
        "--tasks",
        default=",".join(d.tasks),
        help=f"comma-separated, of {', '.join(TASK_NAMES)} (default all)",
    )
    p.add_argument("--steps", type=int, default=d.steps, help="most Adam steps per run (default %(default)s)")
    p.add_argument("--hidden", type=int, default=d.hidden_size, help="hidden size (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="(default %(default)s)")
    p.add_argument(
        "--lr", type=float, default=d.learning_rate, help="Adam learning rate (default %(default)s)"
    )
    p.add_argument(
        "--gate-bias",
        type=float,
        default=d.gate_bias,
        help="initial LSTM forget-gate / GRU update-gate bias; 0 keeps PyTorch's init (default %(default)s)",
    )
    p.add_argument(
        "--margin",
        type=float,
        default=d.margin,
        help="a cell fails at the first lag whose skill (0 = memoryless baseline, 1 = perfect) is below this "
        "(default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=d.seed, help="(default %(default)s)")
    p.add_argument("--threads", type=int, default=d.threads, help="torch threads (default %(default)s)")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT_DIR", help="writes results.json, probe.png, summary.md"
    )
    p.set_defaults(func=_cmd_probe)


def _cmd_probe(args: argparse.Namespace) -> int:
    from seqlab.probe.run import PLOT_FILE, RESULTS_FILE, SUMMARY_FILE, failure_sentences, run_probe

    settings = ProbeSettings(
        cells=_names(args.cells),
        lags=_lags(args.lags),
        tasks=_names(args.tasks),
        steps=args.steps,
        hidden_size=args.hidden,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        gate_bias=args.gate_bias,
        margin=args.margin,
        seed=args.seed,
        threads=args.threads,
    )
    results = run_probe(settings, args.output)
    for line in failure_sentences(results):
        print(line)
    files = ", ".join(f"{args.output}/{name}" for name in (RESULTS_FILE, PLOT_FILE, SUMMARY_FILE))
    print(f"wrote {files} ({results['wall_seconds']} s)")
    return 0
