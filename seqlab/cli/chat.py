"""``seqlab chat RUN``: talk to a Seq2Seq or language-model run in the terminal, turn by turn.

:func:`chat_loop` is the loop (streams as parameters, so tests script it); the conversation itself,
the context the model reads, is :class:`seqlab.predictors.chat.Chatbot`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from seqlab.cli.common import add_no_verify_argument, load_for
from seqlab.cli.seq2seq import add_decoding_arguments, decoding_kwargs

QUIT, RESET = "/quit", "/reset"


def chat_loop(
    bot: Any,
    stdin: TextIO,
    stdout: TextIO,
    *,
    prompt: str = "",
    show_context: TextIO | None = None,
) -> int:
    """Read a line from ``stdin``, write the ``bot``'s answer (a :class:`Chatbot`) to ``stdout``,
    until the end of ``stdin`` or ``/quit``; ``/reset`` forgets the conversation, a blank line is
    skipped. ``prompt`` is written before each read (for a terminal); alternatives (n-best,
    several samples) follow the answer indented; ``show_context`` gets each source the model read.
    Returns the number of answers."""
    answers = 0
    while True:
        if prompt:
            stdout.write(prompt)
            stdout.flush()
        line = stdin.readline()
        if not line:
            if prompt:
                stdout.write("\n")  # Ctrl-D: end the prompt's line
            break
        text = line.strip()
        if text == QUIT:
            break
        if text == RESET:
            bot.reset()
            stdout.write("(context cleared)\n")
            continue
        if not text:
            continue
        reply = bot.reply(text)
        if show_context is not None:
            show_context.write(f"[context] {reply.source}\n")
        stdout.write(reply.text + "\n")
        stdout.writelines(f"    {alternative}\n" for alternative in reply.alternatives)
        stdout.flush()
        answers += 1
    return answers


def _cmd_chat(args: argparse.Namespace) -> int:
    from seqlab.predictors.chat import Chatbot

    decoding = decoding_kwargs(args)
    predictor = load_for(
        "chat", args.run_dir, "seq2seq", "language_model", verify=not args.no_verify, int8=args.int8
    )
    bot = Chatbot(predictor, context_turns=args.context_turns, **decoding)
    interactive = sys.stdin.isatty()
    if interactive:
        print(
            f"chatting with {args.run_dir} ({predictor.config.task.replace('_', ' ')}; the model reads "
            f"the last {bot.context_turns} turn(s) joined with {bot.separator}). "
            f"{RESET} clears the context; {QUIT} or Ctrl-D ends.",
            file=sys.stderr,
        )
    chat_loop(
        bot,
        sys.stdin,
        sys.stdout,
        prompt="> " if interactive else "",
        show_context=sys.stderr if args.show_context else None,
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``chat`` verb."""
    p = sub.add_parser(
        "chat",
        help="talk to a Seq2Seq or language-model run in the terminal; it reads the last turns as context",
        description="Read a line, answer it, repeat until end of input or /quit; /reset clears the "
        "context. The model reads the last K turns (yours and its own) joined with the run's turn "
        "separator (data.context_turns, data.turn_separator): a Seq2Seq run as its source, a "
        "language model as the prompt 'CONTEXT SEPARATOR', answering with the rest of the line (cut at "
        "a separator it writes). A language model takes --beam-size, --n-best (samples with "
        "--sampling), --max-length, --min-length, --no-repeat-ngram, --repetition-penalty and the "
        "sampling flags; the length ratios, --alpha, --length-penalty, --coverage-penalty and "
        "--replace-unk are for Seq2Seq runs only. Lines from a pipe are answered one per line.",
    )
    p.add_argument("run_dir", help="a trained seq2seq or language-model run directory")
    p.add_argument(
        "--context-turns",
        type=int,
        metavar="K",
        help="how many turns the model reads, the new one included (default: the run's data.context_turns)",
    )
    p.add_argument(
        "--show-context",
        action="store_true",
        help="print the source the model reads to stderr before each answer",
    )
    add_decoding_arguments(p)
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_chat)
