"""The Seq2Seq verbs of the command line: ``translate``, ``average`` and ``evaluate`` of a Seq2Seq
run (:func:`seqlab.cli.build_parser` registers them; everything here goes through ``seqlab.load``
and the library)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqlab.cli.common import add_no_verify_argument, load_for
from seqlab.errors import ConfigError
from seqlab.ranges import (
    COVERAGE_PENALTY,
    DIVERSITY_STRENGTH,
    MMI_LAMBDA,
    MMI_LENGTH_WEIGHT,
    REPETITION_PENALTY,
    TEMPERATURE,
    TOP_P,
)

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
    (
        "--diverse-groups",
        int,
        "diverse beam search: split the beam into G groups (G must divide --beam-size; 1: plain beam)",
    ),
    (
        "--diversity-strength",
        float,
        f"diverse beam search: lower a token by this x the earlier groups that chose it at the same "
        f"step, {DIVERSITY_STRENGTH.text} (0: independent groups)",
    ),
    ("--temperature", float, f"with --sampling: divide logits by T, {TEMPERATURE.text}"),
    ("--top-k", int, "with --sampling: draw among the K most likely tokens (0: off)"),
    ("--top-p", float, f"with --sampling: nucleus, the smallest set with probability >= P, {TOP_P.text}"),
    ("--seed", int, "with --sampling: random seed for reproducible draws"),
)


MMI_FLAGS = (
    (
        "--mmi-lm",
        str,
        "MMI anti-LM reranking of the beam (Li et al. 2016): a language-model RUN trained on the target side",
    ),
    (
        "--mmi-lambda",
        float,
        f"with --mmi-lm: weight of the LM's log-probability, {MMI_LAMBDA.text}",
    ),
    ("--mmi-gamma", int, "with --mmi-lm: the LM scores the first N tokens of each output (its own tokens)"),
    (
        "--mmi-length-weight",
        float,
        f"with --mmi-lm: add this x the output length in tokens, {MMI_LENGTH_WEIGHT.text}",
    ),
)


def add_decoding_arguments(p: argparse.ArgumentParser, title: str = "decoding") -> None:
    """Every decoding control as a flag (default: the run's ``decoding`` section), and MMI reranking."""
    group = p.add_argument_group(f"{title} (default: the run's decoding section)")
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
    group.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="decode with int8 matrix products (a Seq2Seq LSTM run on the CPU; refused elsewhere)",
    )
    mmi = p.add_argument_group(
        "MMI reranking (needs --beam-size >= 2: reranks the whole beam, shows --n-best; "
        "defaults: the run's decoding section)"
    )
    for flag, kind, text in MMI_FLAGS:
        mmi.add_argument(flag, type=kind, metavar="RUN" if flag == "--mmi-lm" else None, help=text)


RANGED_FLAGS = {
    "--temperature": TEMPERATURE,
    "--top-p": TOP_P,
    "--repetition-penalty": REPETITION_PENALTY,
    "--coverage-penalty": COVERAGE_PENALTY,
    "--diversity-strength": DIVERSITY_STRENGTH,
    "--mmi-lambda": MMI_LAMBDA,
    "--mmi-length-weight": MMI_LENGTH_WEIGHT,
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
    flags = DECODING_FLAGS + MMI_FLAGS
    names = [flag[2:].replace("-", "_") for flag, _, _ in flags] + ["length_penalty", "replace_unk"]
    kwargs = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if getattr(args, "sampling", False):
        kwargs["sampling"] = True
    return kwargs


def _load_seq2seq(run_dir: str, verify: bool, int8: bool | None):  # noqa: ANN202 - Seq2SeqPredictor
    return load_for("translate", run_dir, "seq2seq", verify=verify, int8=int8)


def cmd_translate(args: argparse.Namespace) -> int:
    from seqlab.data.readers.lines import read_lines

    if (args.text is None) == (args.input is None):
        raise ConfigError("give a TEXT or --input FILE (one of them)")
    if args.attention_plot and args.text is None:
        raise ConfigError("--attention-plot draws one translation: give a TEXT, not --input")
    kwargs = decoding_kwargs(args)
    predictor = _load_seq2seq(args.run_dir, verify=not args.no_verify, int8=args.int8)
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
    report = read_dataset_pairs(name, split or "valid", cfg.data)
    report.log(data)
    return report.pairs, f"{name} ({split or 'valid'})"


def wants_dialogue_scores(cfg, asked: bool) -> bool:  # noqa: ANN001 - ExperimentConfig
    """Whether ``seqlab evaluate`` adds the dialogue scores: with ``--dialogue``, or when the run
    selects its checkpoints by one of them (``training.metric`` bleu1 or bleu2)."""
    return asked or cfg.training.metric in ("bleu1", "bleu2")


def _print_dialogue(summary: dict[str, float], signatures: dict[str, str]) -> None:
    print(f"BLEU-1 {summary['bleu1']:6.2f}  BLEU-2 {summary['bleu2']:6.2f}  {signatures['bleu2']}")
    print(
        f"distinct-1 {summary['distinct1']:.2f}  distinct-2 {summary['distinct2']:.2f}  "
        f"top-10 outputs {summary['frequent_share']:.2f}% of all"
    )


def evaluate_seq2seq(predictor, args: argparse.Namespace) -> int:  # noqa: ANN001 - Seq2SeqPredictor
    """Decode the evaluation pairs and print the teacher-forced perplexity, BLEU, chrF (signatures),
    ROUGE, PER, WER, exact match (with ``--dialogue``: BLEU-1/2, distinct-1/2, the top-10 share)
    and a table by source length."""
    from seqlab.metrics.references import DEFAULT_SCORES, DIALOGUE_SCORES

    search = decoding_kwargs(args)
    pairs, label = _evaluation_pairs(predictor.config, args.data, getattr(args, "reference", None))
    if args.batch_size:
        search["batch_size"] = args.batch_size
    dialogue = wants_dialogue_scores(predictor.config, getattr(args, "dialogue", False))
    scores = (*DEFAULT_SCORES, *DIALOGUE_SCORES) if dialogue else DEFAULT_SCORES
    result = predictor.evaluate(pairs, progress=True, scores=scores, **search)
    summary, signatures = result.summary, result.signatures
    print(f"{label}: {result.count} sources ({len(pairs)} pairs), {_search_label(predictor.config, search)}")
    teacher = predictor.perplexity(pairs)
    print(f"perplexity {teacher['ppl']:.2f}  (teacher-forced loss {teacher['loss']:.4f} per target token)")
    if dialogue:
        _print_dialogue(summary, signatures)
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


def _search_label(cfg, search: dict) -> str:  # noqa: ANN001 - ExperimentConfig
    """The search ``evaluate`` ran, in a few words: beam width, diversity, MMI reranking."""
    decoding = cfg.decoding
    if search.get("sampling"):
        return "sampling"
    beam = search.get("beam_size", decoding.beam_size)
    words = [f"beam {beam}"] + (["int8"] if decoding.int8 else [])
    groups = search.get("diverse_groups", decoding.diverse_groups)
    if beam > 1 and groups > 1:
        strength = search.get("diversity_strength", decoding.diversity_strength)
        words.append(f"{groups} diverse groups (strength {strength:g})")
    if search.get("no_repeat_ngram", decoding.no_repeat_ngram):
        words.append(f"no repeated {search.get('no_repeat_ngram', decoding.no_repeat_ngram)}-grams")
    if "mmi_lm" in search:
        words.append(f"MMI reranking with {search['mmi_lm']}")
    return ", ".join(words)


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
