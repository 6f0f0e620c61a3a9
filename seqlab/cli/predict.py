"""``seqlab predict``, ``encode`` and ``similar``: labels and tags, sentence vectors, nearest lines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqlab.cli.common import add_no_verify_argument, load_for, progress, read_text_lines
from seqlab.errors import ConfigError


def _print_classification(prediction, top_k: int | None) -> None:  # noqa: ANN001 - ClassPrediction
    for name, prob in list(prediction.probabilities.items())[:top_k]:
        print(f"{prob:8.4f}  {name}")
    if prediction.tokens is not None:
        print("attention:")
        for token, weight in zip(prediction.tokens, prediction.weights):
            print(f"{weight:8.4f}  {token}")


def _cmd_predict(args: argparse.Namespace) -> int:

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
    texts = read_text_lines(args.input)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        for chunk in progress(texts, args.batch_size, "predict"):
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

    parts = [predictor.encode(chunk, pool=pool) for chunk in progress(texts, batch_size, "encode")]
    return np.concatenate(parts) if parts else predictor.encode([], pool=pool)


def _cmd_encode(args: argparse.Namespace) -> int:
    import numpy as np

    import seqlab

    predictor = seqlab.load(args.run_dir, verify=not args.no_verify)
    vectors = _encode_lines(predictor, read_text_lines(args.file), args.pool, args.batch_size)
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
    texts = read_text_lines(args.input)
    vectors = _encode_lines(predictor, texts, args.pool, args.batch_size)
    query = predictor.encode([args.query], pool=args.pool)[0]
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(query)
    scores = vectors @ query / np.maximum(norms, 1e-12)
    order = np.argsort(-scores, kind="stable")[: args.top_k]
    for index in order:
        print(f"{scores[index]:8.4f}  {index + 1}  {texts[index]}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``predict``, ``encode`` and ``similar`` verbs."""
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
