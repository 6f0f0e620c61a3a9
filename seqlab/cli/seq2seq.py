"""The Seq2Seq verbs of the command line: ``translate``, ``average`` and ``evaluate`` of a Seq2Seq
run (:func:`seqlab.cli.build_parser` registers them; everything here goes through ``seqlab.load``
and the library)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from seqlab.cli.common import add_no_verify_argument, load_for
from seqlab.errors import ConfigError
from seqlab.ranges import COVERAGE_PENALTY, REPETITION_PENALTY, TEMPERATURE, TOP_P

DECODING_FLAGS = (
    ("--beam-size", int, "beam width (1: greedy)"),
    ("--n-best", int, "how many outputs per input, best first (at most --beam-size)"),
    ("--max-length", int, "at most this many output tokens"),
    (
        "--max-length-ratio",
        float,
        "at most this ratio x source length output tokens (the tighter bound wins)",
    ),
    ("--min-length", int, "no end of output before this many tokens"),
    ("--min-length-ratio", float, "no end of output before this ratio x source length tokens"),
    ("--alpha", float, "GNMT length-penalty exponent"),
    (
        "--coverage-penalty",
        float,
        f"Wu et al.'s coverage penalty weight beta, {COVERAGE_PENALTY.text} (0: off)",
    ),
    ("--no-repeat-ngram", int, "never repeat an n-gram of this size (0: off)"),
    ("--repetition-penalty", float, f"penalise tokens already produced, {REPETITION_PENALTY.text} (1: off)"),
    ("--temperature", float, f"with --sampling: divide logits by T, {TEMPERATURE.text}"),
    ("--top-k", int, "with --sampling: draw among the K most likely tokens (0: off)"),
    ("--top-p", float, f"with --sampling: nucleus, the smallest set with probability >= P, {TOP_P.text}"),
    ("--seed", int, "with --sampling: random seed for reproducible draws"),
)


def add_decoding_arguments(p: argparse.ArgumentParser) -> None:
    """Every decoding control as a flag (default: the run's ``decoding`` section)."""
    group = p.add_argument_group("decoding (default: the run's decoding section)")
    for flag, kind, text in DECODING_FLAGS:
        group.add_argument(flag, type=kind, help=text)
    group.add_argument("--length-penalty", choices=("none", "average", "gnmt"), help="length normalisation")
    group.add_argument("--sampling", action="store_true", help="sample each token instead of searching")
    group.add_argument(
        "--replace-unk",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="replace an output <unk> by the most attended source token",
    )


RANGED_FLAGS = {
    "--temperature": TEMPERATURE,
    "--top-p": TOP_P,
    "--repetition-penalty": REPETITION_PENALTY,
    "--coverage-penalty": COVERAGE_PENALTY,
}


def check_ranged_flags(args: argparse.Namespace) -> None:
    """ConfigError naming the flag and its valid range for a value outside it (before any loading)."""
    for flag, valid in RANGED_FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            valid.check(flag, value)


def decoding_kwargs(args: argparse.Namespace) -> dict:
    """The decoding flags given, as keyword arguments of ``translate`` (ranges checked)."""
    check_ranged_flags(args)
    names = [flag[2:].replace("-", "_") for flag, _, _ in DECODING_FLAGS] + ["length_penalty", "replace_unk"]
    kwargs = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if getattr(args, "sampling", False):
        kwargs["sampling"] = True
    return kwargs


def _load_seq2seq(run_dir: str, verify: bool):  # noqa: ANN202 - Seq2SeqPredictor
    return load_for("translate", run_dir, "seq2seq", verify=verify)


def cmd_translate(args: argparse.Namespace) -> int:
    from seqlab.data.readers.lines import read_lines

    if (args.text is None) == (args.input is None):
        raise ConfigError("give a TEXT or --input FILE (one of them)")
    if args.attention_plot and args.text is None:
        raise ConfigError("--attention-plot draws one translation: give a TEXT, not --input")
    kwargs = decoding_kwargs(args)
    predictor = _load_seq2seq(args.run_dir, verify=not args.no_verify)
    if args.text is not None:
        want_attention = bool(args.attention_plot)
        if want_attention and not predictor.has_attention:
            raise ConfigError(f"--attention-plot: {args.run_dir} was trained without attention")
        result = predictor.translate(args.text, return_attention=want_attention, **kwargs)[0]
        if len(result.n_best) > 1:
            for text, score in result.n_best:
                print(f"{score:9.4f}  {text}")
        else:
            print(result.text)
        if want_attention:
            from seqlab.plots import attention_png

            attention_png(
                result.attention,
                result.source_tokens,
                result.tokens,
                args.attention_plot,
                generation=result.generation,
            )
            print(f"attention heat map: {args.attention_plot}", file=sys.stderr)
        return 0
    texts = read_lines(args.input)
    results = predictor.translate(texts, batch_size=args.batch_size, progress=True, **kwargs)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        for result in results:
            line = json.dumps(result.to_dict(), ensure_ascii=False) if args.json else result.text
            out.write(line + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output:
        print(f"wrote {len(results)} translations to {args.output}", file=sys.stderr)
    return 0


def cmd_average(args: argparse.Namespace) -> int:
    from seqlab.training.averaging import average_checkpoints

    output = average_checkpoints(args.runs, args.output, verify=not args.no_verify)
    print(f"averaged {len(args.runs)} checkpoints into {output}")
    return 0


def _evaluation_pairs(cfg, data: str | None, reference: str | None) -> tuple[list, str]:  # noqa: ANN001
    """Pairs to evaluate on, and a label: the run's validation split, a catalogue NAME[:SPLIT], a
    TSV/JSONL file in the run's format, or a source file with ``--reference``."""
    from seqlab.data.catalogue.seq2seq_pairs import read_dataset_pairs
    from seqlab.data.corpora.seq2seq import read_pair_file, read_seq2seq_splits

    if data is None:
        if reference is not None:
            raise ConfigError("--reference needs --data SOURCE_FILE")
        return read_seq2seq_splits(cfg)[1].pairs, "the run's validation split"
    if Path(data).is_file():
        report = read_pair_file(cfg, data, reference)
        report.log(data)
        return report.pairs, data
    if reference is not None:
        raise ConfigError(f"--data {data}: no such file (with --reference, --data is the source file)")
    name, _, split = data.partition(":")
    report = read_dataset_pairs(name, split or "valid")
    return report.pairs, f"{name} ({split or 'valid'})"


def evaluate_seq2seq(predictor, args: argparse.Namespace) -> int:  # noqa: ANN001 - Seq2SeqPredictor
    """Decode the evaluation pairs and print BLEU, chrF (signatures), ROUGE, PER, WER, exact match
    and a table by source length."""
    pairs, label = _evaluation_pairs(predictor.config, args.data, getattr(args, "reference", None))
    search = {}
    if getattr(args, "beam_size", None):
        search["beam_size"] = args.beam_size
    if args.batch_size:
        search["batch_size"] = args.batch_size
    result = predictor.evaluate(pairs, progress=True, **search)
    summary, signatures = result.summary, result.signatures
    decoding = dataclasses.replace(predictor.config.decoding, **{k: v for k, v in search.items()})
    print(f"{label}: {result.count} sources ({len(pairs)} pairs), beam {decoding.beam_size}")
    print(f"BLEU  {summary['bleu']:6.2f}  {signatures['bleu']}")
    print(f"chrF  {summary['chrf']:6.2f}  {signatures['chrf']}")
    print(
        f"ROUGE-1 {summary['rouge1']:.2f}  ROUGE-2 {summary['rouge2']:.2f}  ROUGE-L {summary['rouge_l']:.2f}"
    )
    print(
        f"PER {summary['per']:.2f}%  WER {summary['wer']:.2f}% (outputs not exactly right)  "
        f"exact match {summary['exact_match']:.2f}%  length ratio {summary['length_ratio']:.3f}"
    )
    name = {"wer": "WER %", "per": "PER %", "exact_match": "exact %", "bleu": "BLEU"}.get(
        result.bucket_metric, result.bucket_metric
    )
    print(f"\nby source length (tokens): {name}")
    print(f"{'length':>10}  {'count':>6}  {name:>8}")
    for row in result.buckets:
        score = "-" if row["score"] is None else f"{row['score']:.2f}"
        print(f"{row['label']:>10}  {row['count']:6d}  {score:>8}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``translate`` and ``average``."""
    p = sub.add_parser("translate", help="translate with a Seq2Seq run: one text, or a file in batches")
    p.add_argument("run_dir", help="a trained seq2seq run directory")
    p.add_argument("text", nargs="?", help="one text to translate")
    p.add_argument("--input", help="a UTF-8 file, one source a line, translated in batches")
    p.add_argument("--output", help="with --input: write the translations here, one a line (default: stdout)")
    p.add_argument("--json", action="store_true", help="with --input: JSON lines with scores (and n-best)")
    p.add_argument(
        "--batch-size", type=int, help="sentences per batch (default: the run's decoding.batch_size)"
    )
    p.add_argument(
        "--attention-plot",
        metavar="PNG",
        help="with a TEXT: draw the attention heat map (source x output; a copy model's p_gen by output)",
    )
    add_decoding_arguments(p)
    add_no_verify_argument(p)
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser(
        "average",
        help="average the weights of runs or checkpoints with the same configuration into a new run",
    )
    p.add_argument(
        "runs", nargs="+", metavar="DIR", help="run directories or checkpoint folders (RUN/last, ...)"
    )
    p.add_argument("-o", "--output", required=True, help="the new run directory (must not exist or be empty)")
    add_no_verify_argument(p)
    p.set_defaults(func=cmd_average)
