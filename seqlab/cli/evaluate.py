"""``seqlab evaluate``: perplexity, label metrics with a confusion matrix, or Seq2Seq quality."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqlab.cli.common import add_no_verify_argument, read_text_lines


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import seqlab
    from seqlab.data.catalogue.lookup import get_dataset, resolve_split

    predictor = seqlab.load(args.run_dir, verify=not args.no_verify, int8=args.int8)
    if predictor.config.task == "seq2seq":
        from seqlab.cli.seq2seq import evaluate_seq2seq

        return evaluate_seq2seq(predictor, args)
    if predictor.config.task != "language_model":
        return _evaluate_labelled(predictor, args)
    source = args.data
    if source is None:
        data = predictor.config.data
        if data.valid is not None:
            source = data.valid
        else:
            lines, label = _config_valid_lines(predictor.config), "the run's validation split"
            return _print_perplexity(predictor, lines, label, args.batch_size)
    if Path(source).is_file():
        lines, label = read_text_lines(source), source
    else:
        entry = get_dataset(source)
        split = "valid" if "valid" in entry.splits else next(iter(entry.splits))
        lines, label = read_text_lines(str(resolve_split(source, split))), f"{source} ({split})"
    return _print_perplexity(predictor, lines, label, args.batch_size)


def _config_valid_lines(cfg) -> list[str]:  # noqa: ANN001 - ExperimentConfig
    from seqlab.data.corpora.lm import split_lines

    return split_lines(cfg.data)[1]


def _print_perplexity(predictor, lines: list[str], label: str, batch_size: int | None) -> int:  # noqa: ANN001
    metrics = predictor.perplexity(lines, batch_size=batch_size)
    print(f"{label}: loss {metrics['loss']:.4f}  perplexity {metrics['ppl']:.2f}  ({len(lines)} lines)")
    return 0


def _evaluation_data(cfg, source: str | None) -> tuple[object, str]:  # noqa: ANN001 - ExperimentConfig
    """A file path, or examples (a catalogue dataset's validation split, or the run's own)."""
    import dataclasses

    from seqlab.data.corpora.labelled import read_splits

    if source is not None and Path(source).is_file():
        return source, source
    if source is None and cfg.data.valid is not None:
        return cfg.data.valid, cfg.data.valid
    label = "the run's validation split"
    if source is not None:
        data = dataclasses.replace(cfg.data, dataset=source, train=None, valid=None)
        cfg, label = dataclasses.replace(cfg, data=data), f"{source} (validation split)"
    return read_splits(cfg)[1], label


def _evaluate_labelled(predictor, args: argparse.Namespace) -> int:  # noqa: ANN001
    from seqlab.plots import confusion_png

    data, label = _evaluation_data(predictor.config, args.data)
    result = predictor.evaluate(data, batch_size=args.batch_size or 64)
    print(f"{label}: {result.count} {result.unit}")
    print("  ".join(f"{name.replace('_', '-')} {value:.4f}" for name, value in result.summary.items()))
    width = max(8, *(len(str(name)) for name in result.labels))
    print(f"{'label':{width}}  precision  recall      f1  support")
    for name in result.labels:
        row = result.per_class[name]
        scores = f"{row['precision']:9.4f}  {row['recall']:6.4f}  {row['f1']:6.4f}"
        print(f"{name:{width}}  {scores}  {row['support']:7d}")
    plot = Path(args.plot) if args.plot else Path(args.run_dir) / "confusion.png"
    confusion_png(result.confusion, result.labels, plot, title=f"{Path(args.run_dir).name}: {label}")
    print(f"confusion matrix: {plot}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``evaluate`` verb."""
    p = sub.add_parser(
        "evaluate",
        help="perplexity (language model); accuracy, macro-F1, per-class table and a confusion "
        "matrix PNG (classifier, tagger); perplexity, BLEU, chrF, ROUGE, PER/WER, exact match and "
        "a table by source length (seq2seq)",
    )
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument(
        "--data",
        help="a catalogue name (its validation split; seq2seq: NAME:SPLIT for another, e.g. "
        "multi30k_en_de:test, dailydialog:valid_unseen, aeslc:valid_ann) or a file (text for a "
        "language model, the run's labelled or pair format otherwise); default: the run's validation data",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        help="evaluation batch size (default: the config's eval_batch_size; 64 texts for a "
        "classifier or tagger)",
    )
    p.add_argument("--plot", help="where to write the confusion-matrix PNG (default RUN_DIR/confusion.png)")
    p.add_argument(
        "--reference", help="seq2seq: the target file aligned with --data (then a source file, one a line)"
    )
    from seqlab.cli.seq2seq import add_decoding_arguments

    add_decoding_arguments(p, title="seq2seq decoding")
    p.add_argument(
        "--dialogue",
        action="store_true",
        help="seq2seq: also BLEU-1/2 (cumulative), distinct-1/2 and the share of outputs that are one "
        "of the ten most frequent (on by default when training.metric is bleu1 or bleu2)",
    )
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_evaluate)
