"""The ``seqlab`` command line: a thin layer over the library (pipeline, api, data catalogue).

One module per verb family, each with ``add_parsers(sub)`` registering its verbs; :func:`build_parser`
calls them in the order ``seqlab --help`` lists the verbs.

Every verb has ``--help``. Errors a user can cause print one clear message and exit with status 2;
training stopped by a guard (divergence, non-finite losses or weights) exits with status 3.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from tqdm.contrib.logging import logging_redirect_tqdm

from seqlab.cli import chat, compare, data, evaluate, lm, predict, serve, train
from seqlab.cli import seq2seq as seq2seq_verbs

__all__ = ["build_parser", "help_markdown", "main"]
from seqlab.errors import SeqlabError

# the verbs in the order --help lists them
VERB_FAMILIES = (train, evaluate, predict, lm, seq2seq_verbs, chat, data, serve, compare)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqlab",
        description="LSTM and Seq2Seq models: train, evaluate, generate, score, classify, tag, encode.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in VERB_FAMILIES:
        family.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        with logging_redirect_tqdm():  # log lines print above the progress bar, not through it
            return args.func(args)
    except SeqlabError as exc:  # ConfigError, DataError, CheckpointError, TrainingError
        print(f"seqlab {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        if exc.filename is None:
            raise  # not about a file: a bug, shown with its traceback
        # a path the user gave that the system refuses (missing folder, no permission, disk full)
        print(f"seqlab {args.command}: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def help_markdown() -> str:
    """Every command's ``--help`` as one Markdown page (``docs/cli.md`` is this text; a test keeps
    them in step)."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        parser = build_parser()
        parts = [
            "# seqlab command line\n",
            "Every command prints its own `--help`; this page collects them (`make docs` regenerates it).",
            "Errors a user can cause print one message naming the file, line or key, and exit with",
            "status 2; so does a path the system refuses (a missing folder, no permission). A command",
            "for another kind of model names the run's family and the command to use instead. Training",
            "stopped by a guard (divergence, non-finite losses or weights) exits with status 3 (see",
            "`seqlab train`).\n",
            f"```\n{parser.format_help()}```\n",
        ]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    parts.append(f"## seqlab {name}\n\n```\n{sub.format_help()}```\n")
                    for inner in sub._actions:
                        if isinstance(inner, argparse._SubParsersAction):
                            for name2, sub2 in inner.choices.items():
                                parts.append(f"### seqlab {name} {name2}\n\n```\n{sub2.format_help()}```\n")
        return "\n".join(parts)
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


if __name__ == "__main__":
    sys.exit(main())
