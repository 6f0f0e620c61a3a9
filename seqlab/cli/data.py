"""``seqlab data`` (the dataset catalogue) and ``seqlab vectors`` (word2vec vectors for a recipe)."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqlab.errors import ConfigError


def _cmd_data(args: argparse.Namespace) -> int:
    from seqlab.data.catalogue.lookup import check_dataset, data_root, list_datasets

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
    from seqlab.data.catalogue.lookup import get_dataset, resolve_split
    from seqlab.data.readers.labelled import read_labelled
    from seqlab.data.readers.lines import read_lines

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


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``data`` and ``vectors`` verbs."""
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
