"""The ``seqlab`` command line: a thin layer over the library (pipeline, api, data catalogue).

Every verb has ``--help``. Errors a user can cause print one clear message and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm.contrib.logging import logging_redirect_tqdm

from seqlab.errors import SeqlabError


def _cmd_train(args: argparse.Namespace) -> int:
    from seqlab.config import load_config
    from seqlab.pipeline import train

    cfg = load_config(args.config, args.set or [])
    result = train(cfg, args.run_dir, resume=args.resume)
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


def _read_text_lines(path: str) -> list[str]:
    from seqlab.data.readers import read_lines

    return read_lines(Path(path))


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import seqlab
    from seqlab.data.catalogue import get_dataset, resolve_split

    predictor = seqlab.load(args.run_dir)
    source = args.data
    if source is None:
        data = predictor.config.data
        if data.valid is not None:
            source = data.valid
        else:
            lines, label = _config_valid_lines(predictor.config), "the run's validation split"
            return _print_perplexity(predictor, lines, label, args.batch_size)
    if Path(source).is_file():
        lines, label = _read_text_lines(source), source
    else:
        entry = get_dataset(source)
        split = "valid" if "valid" in entry.splits else next(iter(entry.splits))
        lines, label = _read_text_lines(str(resolve_split(source, split))), f"{source} ({split})"
    return _print_perplexity(predictor, lines, label, args.batch_size)


def _config_valid_lines(cfg) -> list[str]:  # noqa: ANN001 - ExperimentConfig
    from seqlab.data.lm_corpus import split_lines

    return split_lines(cfg.data)[1]


def _print_perplexity(predictor, lines: list[str], label: str, batch_size: int | None) -> int:  # noqa: ANN001
    metrics = predictor.perplexity(lines, batch_size=batch_size)
    print(f"{label}: loss {metrics['loss']:.4f}  perplexity {metrics['ppl']:.2f}  ({len(lines)} lines)")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    import seqlab

    predictor = seqlab.load(args.run_dir)
    texts = predictor.generate(
        args.prompt,
        args.max_tokens,
        greedy=args.greedy,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        repetition_penalty=args.repetition_penalty,
        no_repeat_ngram=args.no_repeat_ngram,
        min_length=args.min_length,
        seed=args.seed,
        stop_at_eos=args.stop_at_eos,
        num_samples=args.num_samples,
        allow_unk=args.allow_unk,
    )
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- sample {i + 1}")
        print(text)
    return 0


def _cmd_predict_next(args: argparse.Namespace) -> int:
    import seqlab

    predictor = seqlab.load(args.run_dir)
    for token, prob in predictor.predict_next(args.text, top_k=args.top_k):
        print(f"{prob:8.4f}  {token}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    import seqlab

    predictor = seqlab.load(args.run_dir)
    lines = _read_text_lines(args.file)
    total_lp, total_tokens = 0.0, 0
    print("logprob\ttokens\tperplexity\tline")
    for item in predictor.score(lines):
        total_lp += item.logprob
        total_tokens += item.tokens
        print(f"{item.logprob:.4f}\t{item.tokens}\t{item.perplexity:.2f}\t{item.text}")
    if total_tokens:
        import math

        ppl = math.exp(-total_lp / total_tokens)
        print(f"# total: {len(lines)} lines, {total_tokens} tokens, perplexity {ppl:.2f}")
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from seqlab.data.catalogue import check_dataset, data_root, list_datasets

    if args.data_command == "list":
        root = data_root()
        print(f"data folder: {root if root else '(none: set SEQLAB_DATA)'}")
        for entry in list_datasets():
            print(f"{entry.name:22} {entry.task:8} {entry.description}")
        return 0
    print(check_dataset(args.name))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from seqlab.demo import run_demo

    run_demo(run_dir=args.run_dir, minutes=args.minutes)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqlab",
        description="LSTM and Seq2Seq models: train, evaluate, generate, score.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a model from a YAML recipe into a run directory")
    p.add_argument("config", help="YAML recipe, e.g. configs/ptb_word_small.yaml")
    p.add_argument("--run-dir", required=True, help="where config, vocabulary, weights and logs go")
    p.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set training.optimizer.lr=0.002 (repeatable)",
    )
    p.add_argument("--resume", action="store_true", help="continue exactly from RUN_DIR/last")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="perplexity of a trained language model")
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument(
        "--data",
        help="a catalogue name (its validation split) or a text file; default: the run's validation data",
    )
    p.add_argument(
        "--batch-size", type=int, help="evaluation batch size (default: the config's eval_batch_size)"
    )
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("generate", help="generate text from a language model")
    p.add_argument("run_dir")
    p.add_argument("--prompt", default="", help="text to continue (default: start of a line)")
    p.add_argument("--max-tokens", type=int, default=100, help="tokens to generate (default 100)")
    p.add_argument("--greedy", action="store_true", help="argmax decoding instead of sampling")
    p.add_argument("--temperature", type=float, help="divide logits by T (>0); <1 sharper, >1 flatter")
    p.add_argument("--top-k", type=int, help="sample among the K most likely tokens")
    p.add_argument("--top-p", type=float, help="nucleus sampling: smallest set with probability >= P")
    p.add_argument("--repetition-penalty", type=float, help="penalise tokens already generated (>= 1)")
    p.add_argument("--no-repeat-ngram", type=int, help="never repeat an n-gram of this size")
    p.add_argument("--min-length", type=int, help="no end-of-line before this many tokens")
    p.add_argument("--seed", type=int, help="random seed for reproducible sampling")
    p.add_argument("--num-samples", type=int, default=1, help="how many continuations (default 1)")
    p.add_argument("--stop-at-eos", action="store_true", help="stop each sample at its first line end")
    p.add_argument("--allow-unk", action="store_true", help="let the model produce <unk> (banned by default)")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("predict-next", help="the most likely next tokens, with probabilities")
    p.add_argument("run_dir")
    p.add_argument("text", help='the context, e.g. "the cat sat on the"')
    p.add_argument("--top-k", type=int, default=5, help="how many tokens to list (default 5)")
    p.set_defaults(func=_cmd_predict_next)

    p = sub.add_parser("score", help="log-probability and perplexity of each line of a file")
    p.add_argument("run_dir")
    p.add_argument("file", help="UTF-8 text, one item per line")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("data", help="the dataset catalogue")
    data_sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    data_sub.add_parser("list", help="list known datasets and where the data folder is")
    check = data_sub.add_parser("check", help="find a dataset's files and verify their sha256")
    check.add_argument("name")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("demo", help="the main job: a character LSTM LM on CMU dictionary words (~2 min)")
    p.add_argument(
        "--run-dir",
        default="runs/demo",
        help="where to put the run (default runs/demo; a new suffix if taken)",
    )
    p.add_argument("--minutes", type=float, default=2.0, help="training budget in minutes (default 2)")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        with logging_redirect_tqdm():  # log lines print above the progress bar, not through it
            return args.func(args)
    except SeqlabError as exc:
        print(f"seqlab {args.command}: error: {exc}", file=sys.stderr)
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
            "status 2.\n",
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
