"""The parallel data all three toolkits train and decode on, written once into ``bench/peers/work/data``.

Source: ``seq2seq/small_parallel_enja`` (50,000 tokenized, lowercased English-Japanese pairs) under
the data root (``$SEQLAB_DATA``, default ``../shared/data``), read in place, English -> Japanese.
Nothing is downloaded and nothing is copied into the repository's tracked files.

Selection (deterministic, file order): a pair is *eligible* when both sides have 5-30 tokens and
every token is among the ``V_src`` / ``V_tgt`` most frequent types of the whole training file
(frequency, then the token, decides ties). ``train`` = the first 20,000 eligible pairs. ``V_src`` and
``V_tgt`` are chosen by a small fixed-point search so that ``train`` uses exactly 1,996 types on each
side; with the 4 specials each toolkit adds (unk, pad, bos, eos) every vocabulary then has exactly
2,000 entries, and each toolkit can build it from ``train`` alone. ``dev`` = the next 1,000 eligible
pairs whose tokens all occur in ``train`` (no unknown words: dev BLEU measures the model, not the
unknown-word handling). The 1,000 dev sources are also the decoding-speed set.

Files: ``train.{en,ja}``, ``dev.{en,ja}`` (one sentence a line, tokens separated by one space),
``vocab.{en,ja}`` (one token a line, most frequent first: Joey NMT's ``voc_file`` and
OpenNMT-py's ``src_vocab``/``tgt_vocab``; seqlab builds the same list from ``train``) and
``meta.json`` (sizes, the search's result, a digest of the text files).

Run alone: ``.venv/bin/python bench/peers/data.py [--work bench/peers/work]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

CORPUS = "seq2seq/small_parallel_enja"
SRC, TGT = "en", "ja"
TRAIN_PAIRS = 20_000
DEV_PAIRS = 1_000
MIN_TOKENS, MAX_TOKENS = 5, 30
WORD_TYPES = 1_996  # + 4 specials = 2,000 per vocabulary
SEARCH_ROUNDS = 50
FORMAT_VERSION = 1

Pair = tuple[list[str], list[str]]


@dataclass(frozen=True)
class DataInfo:
    """What :func:`prepare` wrote (paths are absolute strings)."""

    directory: str
    source: str
    train_pairs: int
    dev_pairs: int
    src_types: int
    tgt_types: int
    src_rank_cut: int
    tgt_rank_cut: int
    train_tgt_tokens: int
    digest: str

    def path(self, name: str) -> str:
        return str(Path(self.directory) / name)


def data_root() -> Path:
    return Path(os.environ.get("SEQLAB_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))


def read_side(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()]


def ranked(sentences: list[list[str]]) -> list[str]:
    counts = Counter(token for sentence in sentences for token in sentence)
    return [token for token, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def eligible(pair: Pair, src_vocab: set[str], tgt_vocab: set[str]) -> bool:
    src, tgt = pair
    return (
        MIN_TOKENS <= len(src) <= MAX_TOKENS
        and MIN_TOKENS <= len(tgt) <= MAX_TOKENS
        and all(token in src_vocab for token in src)
        and all(token in tgt_vocab for token in tgt)
    )


def types(pairs: list[Pair], side: int) -> set[str]:
    return {token for pair in pairs for token in pair[side]}


def select(pairs: list[Pair]) -> tuple[list[Pair], list[Pair], int, int]:
    """(train, dev, src rank cut, tgt rank cut): see the module docstring."""
    src_ranked = ranked([p[0] for p in pairs])
    tgt_ranked = ranked([p[1] for p in pairs])
    cut_src = cut_tgt = WORD_TYPES
    for _ in range(SEARCH_ROUNDS):
        src_vocab, tgt_vocab = set(src_ranked[:cut_src]), set(tgt_ranked[:cut_tgt])
        train: list[Pair] = []
        for pair in pairs:
            if eligible(pair, src_vocab, tgt_vocab):
                train.append(pair)
                if len(train) == TRAIN_PAIRS:
                    break
        n_src, n_tgt = len(types(train, 0)), len(types(train, 1))
        if len(train) == TRAIN_PAIRS and n_src == WORD_TYPES and n_tgt == WORD_TYPES:
            break
        cut_src += WORD_TYPES - n_src
        cut_tgt += WORD_TYPES - n_tgt
    else:
        raise SystemExit(f"data: no cut gives {WORD_TYPES} types per side in {SEARCH_ROUNDS} rounds")
    train_src, train_tgt = types(train, 0), types(train, 1)
    dev: list[Pair] = []
    for pair in pairs[pairs.index(train[-1]) + 1 :]:
        if eligible(pair, train_src, train_tgt):
            dev.append(pair)
            if len(dev) == DEV_PAIRS:
                break
    if len(dev) < DEV_PAIRS:
        raise SystemExit(f"data: only {len(dev)} dev pairs after the training pairs")
    return train, dev, cut_src, cut_tgt


def write_lines(path: Path, sentences: list[list[str]]) -> None:
    path.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")


def write_vocab(directory: Path, lang: str, sentences: list[list[str]]) -> None:
    (directory / f"vocab.{lang}").write_text("".join(f"{t}\n" for t in ranked(sentences)), encoding="utf-8")


def prepare(work: Path, root: Path | None = None) -> DataInfo:
    """Writes the data files under ``work/data`` (skipped when ``meta.json`` says they are current)."""
    root = root or data_root()
    corpus = root / CORPUS
    directory = (Path(work) / "data").resolve()
    meta = directory / "meta.json"
    if meta.is_file():
        saved = json.loads(meta.read_text())
        if saved.get("format_version") == FORMAT_VERSION and saved.get("source") == str(corpus):
            saved.pop("format_version")
            return DataInfo(**saved)
    files = [corpus / f"train.{SRC}", corpus / f"train.{TGT}"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SystemExit(f"data: {', '.join(missing)} not found (set SEQLAB_DATA to the shared data root)")
    src, tgt = read_side(files[0]), read_side(files[1])
    if len(src) != len(tgt):
        raise SystemExit(f"data: {files[0]} has {len(src)} lines but {files[1]} has {len(tgt)}")
    train, dev, cut_src, cut_tgt = select(list(zip(src, tgt)))
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for split, pairs in (("train", train), ("dev", dev)):
        for side, lang in ((0, SRC), (1, TGT)):
            path = directory / f"{split}.{lang}"
            write_lines(path, [p[side] for p in pairs])
            digest.update(path.read_bytes())
    write_vocab(directory, SRC, [p[0] for p in train])
    write_vocab(directory, TGT, [p[1] for p in train])
    info = DataInfo(
        directory=str(directory),
        source=str(corpus),
        train_pairs=len(train),
        dev_pairs=len(dev),
        src_types=len(types(train, 0)),
        tgt_types=len(types(train, 1)),
        src_rank_cut=cut_src,
        tgt_rank_cut=cut_tgt,
        train_tgt_tokens=sum(len(p[1]) + 1 for p in train),  # + </s>, as the toolkits count
        digest=digest.hexdigest()[:16],
    )
    meta.write_text(json.dumps({"format_version": FORMAT_VERSION, **asdict(info)}, indent=2) + "\n")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the peers benchmark's parallel data.")
    parser.add_argument("--work", default=str(Path(__file__).resolve().parent / "work"))
    parser.add_argument("--data", default=None, help="data root (default $SEQLAB_DATA or ../shared/data)")
    args = parser.parse_args()
    info = prepare(Path(args.work), Path(args.data) if args.data else None)
    print(json.dumps(asdict(info), indent=2))


if __name__ == "__main__":
    main()
