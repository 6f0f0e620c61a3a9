"""The ``seqlab`` command line: a thin layer over the library (pipeline, api, data catalogue).

Every verb has ``--help``. Errors a user can cause print one clear message and exit with status 2;
training stopped by a guard (divergence, non-finite losses or weights) exits with status 3.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm.contrib.logging import logging_redirect_tqdm

from seqlab.errors import ConfigError, SeqlabError
from seqlab.ranges import REPETITION_PENALTY, TEMPERATURE, TOP_P


def add_no_verify_argument(p: argparse.ArgumentParser) -> None:
    """``--no-verify``, on every command that reads a run directory."""
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="skip checking the run's files against their sha256 manifests (manifest.json), for "
        "repairing a run by hand",
    )


def _cmd_train(args: argparse.Namespace) -> int:
    from seqlab.config import load_config
    from seqlab.pipeline import train

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


# What each model family's runs are used with, for the message when a command gets another family.
_FAMILY_NAMES = {"language_model": "language model", "classifier": "classifier", "tagger": "tagger"}
_FAMILY_COMMANDS = {
    "language_model": "`seqlab generate`, `seqlab predict-next` or `seqlab score`",
    "classifier": "`seqlab predict`",
    "tagger": "`seqlab predict`",
    "seq2seq": "`seqlab translate`",
}


def load_for(command: str, run_dir: str, *families: str, verify: bool = True):  # noqa: ANN201
    """``seqlab.load(run_dir, verify=verify)`` for a command that serves ``families``; otherwise a
    ConfigError naming the run's family and the command to use instead."""
    import seqlab

    predictor = seqlab.load(run_dir, verify=verify)
    task = predictor.config.task
    if task not in families:
        raise ConfigError(
            f"{run_dir} is a {_FAMILY_NAMES.get(task, task)} run; `seqlab {command}` needs a "
            f"{' or '.join(_FAMILY_NAMES.get(f, f) for f in families)} run: use {_FAMILY_COMMANDS[task]}"
        )
    return predictor


def _read_text_lines(path: str) -> list[str]:
    from seqlab.data.readers import read_lines

    return read_lines(Path(path))


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import seqlab
    from seqlab.data.catalogue import get_dataset, resolve_split

    predictor = seqlab.load(args.run_dir, verify=not args.no_verify)
    if predictor.config.task == "seq2seq":
        from seqlab.cli_seq2seq import evaluate_seq2seq

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


def _evaluation_data(cfg, source: str | None) -> tuple[object, str]:  # noqa: ANN001 - ExperimentConfig
    """A file path, or examples (a catalogue dataset's validation split, or the run's own)."""
    import dataclasses

    from seqlab.data.cls_corpus import read_splits

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


def _progress(items: list, batch_size: int, what: str):  # noqa: ANN202 - an iterator of chunks
    from tqdm import tqdm

    from seqlab.predictors.common import chunks

    total = (len(items) + batch_size - 1) // batch_size
    return tqdm(chunks(items, batch_size), total=total, unit="batch", desc=what, disable=None)


def _print_classification(prediction, top_k: int | None) -> None:  # noqa: ANN001 - ClassPrediction
    for name, prob in list(prediction.probabilities.items())[:top_k]:
        print(f"{prob:8.4f}  {name}")
    if prediction.tokens is not None:
        print("attention:")
        for token, weight in zip(prediction.tokens, prediction.weights):
            print(f"{weight:8.4f}  {token}")


def _cmd_predict(args: argparse.Namespace) -> int:
    import json

    predictor = load_for("predict", args.run_dir, "classifier", "tagger", verify=not args.no_verify)
    task = predictor.config.task
    if (args.text is None) == (args.input is None):
        raise ConfigError("give a TEXT or --input FILE (one of them)")
    if args.explain and task != "classifier":
        raise ConfigError("--explain shows a classifier's attention weights; this run is a tagger")
    if args.text is not None:
        if task == "classifier":
            _print_classification(predictor.predict(args.text, explain=args.explain), args.top_k)
        else:
            print(" ".join(f"{word}/{tag}" for word, tag in predictor.predict(args.text)))
        return 0
    texts = _read_text_lines(args.input)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        for chunk in _progress(texts, args.batch_size, "predict"):
            if task == "classifier":
                records = [p.to_dict() for p in predictor.predict(chunk, explain=args.explain)]
            else:
                records = [{"text": t, "tags": p} for t, p in zip(chunk, predictor.predict(chunk))]
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output:
        print(f"wrote {len(texts)} predictions to {args.output}")
    return 0


def _encode_lines(predictor, texts: list[str], pool: str, batch_size: int):  # noqa: ANN001, ANN202
    import numpy as np

    parts = [predictor.encode(chunk, pool=pool) for chunk in _progress(texts, batch_size, "encode")]
    return np.concatenate(parts) if parts else predictor.encode([], pool=pool)


def _cmd_encode(args: argparse.Namespace) -> int:
    import numpy as np

    import seqlab

    predictor = seqlab.load(args.run_dir, verify=not args.no_verify)
    vectors = _encode_lines(predictor, _read_text_lines(args.file), args.pool, args.batch_size)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    np.save(output, vectors)
    print(f"wrote {vectors.shape[0]} vectors of size {vectors.shape[1]} ({args.pool} pooling) to {output}")
    return 0


def _cmd_similar(args: argparse.Namespace) -> int:
    import numpy as np

    import seqlab
    from seqlab.errors import ConfigError

    if args.top_k < 1:
        raise ConfigError(f"--top-k {args.top_k}: must be >= 1")
    predictor = seqlab.load(args.run_dir, verify=not args.no_verify)
    texts = _read_text_lines(args.input)
    vectors = _encode_lines(predictor, texts, args.pool, args.batch_size)
    query = predictor.encode([args.query], pool=args.pool)[0]
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(query)
    scores = vectors @ query / np.maximum(norms, 1e-12)
    order = np.argsort(-scores, kind="stable")[: args.top_k]
    for index in order:
        print(f"{scores[index]:8.4f}  {index + 1}  {texts[index]}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from seqlab.cli_seq2seq import check_ranged_flags

    check_ranged_flags(args)
    predictor = load_for("generate", args.run_dir, "language_model", verify=not args.no_verify)
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
        beam_size=args.beam,
    )
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- sample {i + 1}")
        print(text)
    return 0


def _cmd_predict_next(args: argparse.Namespace) -> int:
    predictor = load_for("predict-next", args.run_dir, "language_model", verify=not args.no_verify)
    for token, prob in predictor.predict_next(args.text, top_k=args.top_k):
        print(f"{prob:8.4f}  {token}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    predictor = load_for("score", args.run_dir, "language_model", verify=not args.no_verify)
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


def _vector_texts(args: argparse.Namespace) -> tuple[list[str], str]:
    """The texts of ``--dataset`` (its training split) or ``--train``, and where they came from."""
    from seqlab.data.catalogue import get_dataset, resolve_split
    from seqlab.data.labelled import read_labelled
    from seqlab.data.readers import read_lines

    if (args.dataset is None) == (args.train is None):
        raise ConfigError("vectors train: give exactly one of --dataset NAME and --train FILE")
    if args.dataset is not None:
        entry = get_dataset(args.dataset)
        path = resolve_split(args.dataset, "all" if "all" in entry.splits else "train")
    else:
        path = Path(args.train)
    if args.format == "text":
        return [line for line in read_lines(path) if line.strip()], str(path)
    report = read_labelled(path, args.format, text_field=args.text_field, on_error="skip")
    return [example.text for example in report.examples], str(path)


def _cmd_vectors(args: argparse.Namespace) -> int:
    from seqlab.config import TokenizerConfig
    from seqlab.text import build_tokenizer
    from seqlab.text.word2vec import (
        Word2VecSettings,
        split_punctuation,
        train_word2vec,
        write_word2vec_text,
    )

    settings = Word2VecSettings(
        dim=args.dim,
        window=args.window,
        min_count=args.min_count,
        epochs=args.epochs,
        algorithm=args.algorithm,
        seed=args.seed,
        workers=args.workers,
    )
    texts, source = _vector_texts(args)
    tokenizer = build_tokenizer(TokenizerConfig(kind="word", lowercase=args.lowercase))
    if args.split_punctuation:
        texts = [split_punctuation(text) for text in texts]
    vectors = train_word2vec([tokenizer.tokenize(text) for text in texts], settings)
    count = write_word2vec_text(vectors, args.output)
    print(f"{args.output}: {count} words x {settings.dim} dimensions, from {len(texts)} texts of {source}")
    return 0


def _serve_settings(args: argparse.Namespace):  # noqa: ANN202 - a ServeSettings
    import dataclasses

    from seqlab.serve.settings import ServeSettings, validated, with_env_token

    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(ServeSettings)
        if getattr(args, f.name, None) is not None
    }
    return validated(with_env_token(ServeSettings(**given)))


def _cmd_serve(args: argparse.Namespace) -> int:
    settings = _serve_settings(args)  # checked before the heavy imports
    from seqlab.errors import ConfigError

    try:
        from seqlab.serve import parse_model_specs, serve
    except ImportError as exc:
        message = f"seqlab serve needs the serve extra: pip install 'seqlab[serve]' ({exc})"
        raise ConfigError(message) from None
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    loader = None
    if args.no_verify:
        from functools import partial

        from seqlab.api import load

        loader = partial(load, verify=False)
    return serve(parse_model_specs(args.run_dirs), settings, log_level=args.log_level, loader=loader)


def _cmd_export(args: argparse.Namespace) -> int:
    from seqlab.export import export_run, summary

    result = export_run(
        args.run_dir, args.format, args.output, overwrite=args.overwrite, verify=not args.no_verify
    )
    print(f"exported {args.run_dir} as {args.format}:")
    for line in summary(result):
        print(f"  {line}")
    return 0


def _add_serve_parser(sub: argparse._SubParsersAction) -> None:
    from seqlab.serve.settings import TOKEN_ENV, ServeSettings

    d = ServeSettings()
    p = sub.add_parser(
        "serve",
        help="serve trained run directories over HTTP (JSON API, OpenAPI schema, web page at /)",
        description="Serve run directories by name (NAME=DIR to rename one). Binds 127.0.0.1 unless "
        "--host says otherwise (another host needs a token, or --insecure); SIGTERM drains requests "
        "in flight and exits 0.",
    )
    p.add_argument("run_dirs", nargs="+", metavar="DIR", help="a trained run directory, or NAME=DIR")
    p.add_argument("--host", help=f"address to listen on (default {d.host}: this machine only)")
    p.add_argument("--port", type=int, help=f"port (default {d.port})")
    p.add_argument(
        "--token",
        help=f"require 'Authorization: Bearer TOKEN' on every endpoint but health (default ${TOKEN_ENV}; "
        "the environment variable keeps it out of the process list)",
    )
    limits = (
        ("--max-input-tokens", int, d.max_input_tokens, "tokens in one input text"),
        ("--max-output-tokens", int, d.max_output_tokens, "tokens one generation or translation may produce"),
        ("--max-beam-size", int, d.max_beam_size, "beam size (and n-best) a request may ask for"),
        ("--max-batch-size", int, d.max_batch_size, "texts per request and per batched model call"),
        ("--max-body-bytes", int, d.max_body_bytes, "request body size; larger bodies get 413 unread"),
        ("--decode-timeout", float, d.decode_timeout_s, "seconds a request may take before 504"),
        ("--queue-size", int, d.queue_size, "requests waiting at once; more get 429"),
        ("--batch-wait-ms", float, d.batch_wait_ms, "how long a batch waits for more requests"),
        ("--drain-timeout", float, d.drain_timeout_s, "on SIGTERM, seconds in-flight requests may take"),
        ("--read-timeout", float, d.read_timeout_s, "seconds a client may take to send a whole request"),
    )
    for flag, kind, default, text in limits:
        dest = flag[2:].replace("-", "_") + ("_s" if flag.endswith("-timeout") else "")
        shown = f"{default:g}" if kind is float else str(default)
        p.add_argument(flag, type=kind, dest=dest, metavar="N", help=f"{text} (default {shown})")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow a --host other than loopback without a token (anyone who reaches it may call it)",
    )
    p.add_argument("--threads", type=int, help="torch threads for the model (default: torch's choice)")
    p.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info", help="(default info)"
    )
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_serve)


def _cmd_compare(args: argparse.Namespace) -> int:
    from seqlab.compare.run import report_only, run_compare
    from seqlab.errors import ConfigError

    if args.report_only:
        report_only(args.output)
        return 0
    if args.spec is None:
        raise ConfigError("seqlab compare: give SPEC.yaml (or --report-only to redraw an existing report)")
    run_compare(args.spec, args.output, isolate=not args.in_process)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from seqlab.demo import run_demo

    run_demo(run_dir=args.run_dir, minutes=args.minutes)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqlab",
        description="LSTM and Seq2Seq models: train, evaluate, generate, score, classify, tag, encode.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    p = sub.add_parser(
        "evaluate",
        help="perplexity (language model); accuracy, macro-F1, per-class table and a confusion "
        "matrix PNG (classifier, tagger); BLEU, chrF, ROUGE, PER/WER, exact match and a table by "
        "source length (seq2seq)",
    )
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument(
        "--data",
        help="a catalogue name (its validation split; seq2seq: NAME:SPLIT for another, e.g. "
        "multi30k_en_de:test) or a file (text for a language model, the run's labelled or pair format "
        "otherwise); default: the run's validation data",
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
    p.add_argument("--beam-size", type=int, help="seq2seq: beam width (default: the run's decoding section)")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser(
        "predict", help="label probabilities (classifier) or tags (tagger) of a text or a file"
    )
    p.add_argument("run_dir")
    p.add_argument("text", nargs="?", help="one text to label or tag")
    p.add_argument("--input", help="a UTF-8 file, one text a line, predicted in batches")
    p.add_argument("--output", help="with --input: write JSON lines here (default: standard output)")
    p.add_argument(
        "--explain", action="store_true", help="show each token's attention weight (attention pooling)"
    )
    p.add_argument("--top-k", type=int, help="how many label probabilities to print (default all)")
    p.add_argument("--batch-size", type=int, default=64, help="texts per batch with --input (default 64)")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("encode", help="sentence vectors of every line of a file, from any trained LSTM")
    p.add_argument("run_dir")
    p.add_argument("file", help="UTF-8 text, one sentence a line")
    p.add_argument("-o", "--output", required=True, help="where to write the vectors (.npy, float32 [N, D])")
    p.add_argument("--pool", choices=("mean", "max", "last"), default="mean", help="how to pool token states")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_encode)

    p = sub.add_parser("similar", help="the lines of a file nearest to a query (cosine of sentence vectors)")
    p.add_argument("run_dir")
    p.add_argument("query", help="the text to look for")
    p.add_argument(
        "--in", dest="input", required=True, metavar="FILE", help="UTF-8 text, one candidate a line"
    )
    p.add_argument("--top-k", type=int, default=5, help="how many neighbours to list (default 5)")
    p.add_argument("--pool", choices=("mean", "max", "last"), default="mean", help="how to pool token states")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_similar)

    p = sub.add_parser("generate", help="generate text from a language model")
    p.add_argument("run_dir")
    p.add_argument("--prompt", default="", help="text to continue (default: start of a line)")
    p.add_argument("--max-tokens", type=int, default=100, help="tokens to generate (default 100)")
    p.add_argument("--greedy", action="store_true", help="argmax decoding instead of sampling")
    p.add_argument("--temperature", type=float, help=f"divide logits by T, {TEMPERATURE.text}; <1 sharper")
    p.add_argument("--top-k", type=int, help="sample among the K most likely tokens")
    p.add_argument(
        "--top-p", type=float, help=f"nucleus sampling: smallest set with probability >= P, {TOP_P.text}"
    )
    p.add_argument(
        "--repetition-penalty",
        type=float,
        help=f"penalise tokens already generated, {REPETITION_PENALTY.text}",
    )
    p.add_argument("--no-repeat-ngram", type=int, help="never repeat an n-gram of this size")
    p.add_argument("--min-length", type=int, help="no end-of-line before this many tokens")
    p.add_argument("--seed", type=int, help="random seed for reproducible sampling")
    p.add_argument("--num-samples", type=int, default=1, help="how many continuations (default 1)")
    p.add_argument("--stop-at-eos", action="store_true", help="stop each sample at its first line end")
    p.add_argument("--allow-unk", action="store_true", help="let the model produce <unk> (banned by default)")
    p.add_argument("--beam", type=int, default=1, help="beam search of this width (default 1: no beam)")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("predict-next", help="the most likely next tokens, with probabilities")
    p.add_argument("run_dir")
    p.add_argument("text", help='the context, e.g. "the cat sat on the"')
    p.add_argument("--top-k", type=int, default=5, help="how many tokens to list (default 5)")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_predict_next)

    p = sub.add_parser("score", help="log-probability and perplexity of each line of a file")
    p.add_argument("run_dir")
    p.add_argument("file", help="UTF-8 text, one item per line")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_score)

    from seqlab.cli_seq2seq import add_parsers as add_seq2seq_parsers

    add_seq2seq_parsers(sub)

    p = sub.add_parser("data", help="the dataset catalogue")
    data_sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    data_sub.add_parser("list", help="list known datasets and where the data folder is")
    check = data_sub.add_parser("check", help="find a dataset's files and verify their sha256")
    check.add_argument("name")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("vectors", help="word vectors for model.pretrained_vectors (needs seqlab[vectors])")
    vectors_sub = p.add_subparsers(dest="vectors_command", required=True, metavar="ACTION")
    v = vectors_sub.add_parser(
        "train",
        help="train word2vec on the texts of a dataset or file (word tokenizer) and write a word2vec "
        "text file",
    )
    v.add_argument("--dataset", help="a catalogue name; its training split is read (e.g. imdb)")
    v.add_argument("--train", help="a file instead of --dataset")
    v.add_argument(
        "--format",
        choices=("text", "tsv", "label_text", "jsonl"),
        default="jsonl",
        help="how the file is read: plain lines or a labelled format, labels ignored (default jsonl)",
    )
    v.add_argument("--text-field", default="text", help="the JSON key of the text with jsonl (default text)")
    v.add_argument(
        "--lowercase",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="lowercase before splitting at whitespace; match the recipe's tokenizer (default: yes)",
    )
    v.add_argument(
        "--split-punctuation",
        action="store_true",
        help="first split punctuation and clitics off as in the Penn Treebank (n't, 's, ',', -lrb-), "
        "for recipes over pre-tokenized text such as SST-2",
    )
    v.add_argument("-o", "--output", required=True, help="the vectors file to write, e.g. runs/vectors/x.txt")
    v.add_argument("--dim", type=int, default=300, help="dimensions = the recipe's embedding_size (300)")
    v.add_argument("--window", type=int, default=5, help="context words on each side (default 5)")
    v.add_argument("--min-count", type=int, default=5, help="rarer words get no vector (default 5)")
    v.add_argument("--epochs", type=int, default=5, help="passes over the text (default 5)")
    v.add_argument("--algorithm", choices=("skipgram", "cbow"), default="skipgram", help="default skipgram")
    v.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    v.add_argument("--workers", type=int, default=1, help="threads; 1 (the default) is reproducible")
    p.set_defaults(func=_cmd_vectors)

    _add_serve_parser(sub)

    p = sub.add_parser(
        "export", help="export a trained model to ONNX or TorchScript, with its vocabularies as JSON"
    )
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument("--format", choices=("onnx", "torchscript"), required=True, help="the file format")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="a new or empty folder for the model files and seqlab_export.json",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder that already holds files, replacing those of the same names",
    )
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_export)

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

    from seqlab.probe.cli import add_probe_parser

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
