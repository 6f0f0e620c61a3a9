"""The lead baseline for subject lines and headlines (issue 16, item 5): the figure a summarization
table starts from.

For each row (``aeslc`` ``valid`` and ``valid_ann``, ``bbc_title`` ``valid`` and ``test``) the output
for a source is its **lead**: the source's first sentence, truncated to the mean target length in
words of the same dataset's TRAINING split (rounded half up; the number is printed and saved).

First sentence
    the source up to and including the first ``.``, ``!`` or ``?`` that is followed by whitespace,
    or up to the first line break, whichever comes first (after leading whitespace); the whole
    source when there is neither. Whitespace is then collapsed.
Sources
    AESLC: the email body with its line breaks (the dataset puts one sentence a line; the catalogue's
    pairs join the lines, so the raw bodies are read from the same archive and matched to the pairs'
    sources). BBC titles: the catalogue's source (the article's first two sentences, line breaks
    already collapsed).
Scoring
    :func:`seqlab.metrics.references.score_outputs`, the function ``seqlab evaluate`` calls, on the
    sources grouped by :func:`~seqlab.metrics.references.group_references` (``valid_ann``: three
    annotated subjects per body, each output scored against the closest, in edit distance over
    lowercased words here; ``evaluate`` measures it over the run's sentencepiece pieces).
    Case: the recipes (configs/aeslc_attention.yaml, configs/bbc_title.yaml) use lowercase
    sentencepiece, so a model's outputs are lowercase, while ``evaluate`` passes the references as
    read (cased). The lead is lowercased and the references are kept as read, as ``evaluate`` does:
    ROUGE (rouge-score's tokenizer lowercases both sides) is unaffected; BLEU (sacreBLEU 13a,
    case-sensitive) is the figure ``evaluate`` would give; ``bleu_lc`` lowercases the references too.

Nothing is trained or downloaded: the data comes through the catalogue (``$SEQLAB_DATA``, default
``../shared/data``). Run from the repository root (one thread; well under a minute)::

    OMP_NUM_THREADS=1 .venv/bin/python bench/lead_baseline.py
    OMP_NUM_THREADS=1 .venv/bin/python bench/lead_baseline.py --datasets aeslc --out /tmp/lead.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import tarfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from machine_info import cpu_line, git_commit, load_average  # noqa: E402

from seqlab.data.catalogue.lookup import resolve_split  # noqa: E402
from seqlab.data.catalogue.seq2seq_pairs import read_dataset_pairs  # noqa: E402
from seqlab.data.readers.aeslc import SUBJECT_MARKER  # noqa: E402
from seqlab.data.readers.lines import decode_utf8, split_newlines  # noqa: E402
from seqlab.errors import DataError  # noqa: E402
from seqlab.metrics.references import group_references, score_outputs  # noqa: E402
from seqlab.text.tokenizers import WordTokenizer  # noqa: E402

ROWS = {"aeslc": ("valid", "valid_ann"), "bbc_title": ("valid", "test")}
SCORES = ("rouge1", "rouge2", "rouge_l", "bleu")
_SENTENCE_END = re.compile(r"[.!?](?=\s)|[\r\n]")
_WORDS = WordTokenizer(lowercase=True)


def first_sentence(text: str) -> str:
    """``text`` up to the first ``.``/``!``/``?`` followed by whitespace (kept) or the first line
    break (dropped), after leading whitespace; whitespace collapsed."""
    text = text.lstrip()
    end = _SENTENCE_END.search(text)
    return " ".join((text[: end.end()] if end else text).split())


def lead(text: str, words: int) -> str:
    """The first ``words`` words of ``text``'s first sentence."""
    return " ".join(first_sentence(text).split()[:words])


def word_budget(targets: Sequence[str]) -> tuple[float, int]:
    """(mean length in whitespace words of ``targets``, that mean rounded half up, at least 1)."""
    mean = sum(len(t.split()) for t in targets) / len(targets)
    return mean, max(1, math.floor(mean + 0.5))


def _subject_files(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.is_dir():
        for file in sorted(path.rglob("*.subject")):
            yield str(file), file.read_bytes()
        return
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None and member.name.endswith(".subject"):
                yield f"{path}:{member.name}", handle.read()


def aeslc_bodies(path: Path) -> dict[str, str]:
    """Joined body (the catalogue pair's source) -> the body with its line breaks, for every
    ``*.subject`` file of an AESLC archive or folder that has a ``@subject`` line."""
    bodies: dict[str, str] = {}
    for origin, raw in _subject_files(path):
        lines = split_newlines(decode_utf8(raw, origin))
        at = next((i for i, line in enumerate(lines) if line.strip() == SUBJECT_MARKER), None)
        if at is not None:
            body = "\n".join(line.rstrip("\r") for line in lines[:at]).strip()
            bodies.setdefault(" ".join(body.split()), body)
    return bodies


def score_lead(sources: Sequence[str], references: Sequence[Sequence[str]], words: int) -> dict:
    """Scores of the lowercased leads of ``sources`` against ``references`` (as read; several per
    source allowed) with ``score_outputs``; plus ``bleu_lc`` (references lowercased too)."""
    hyps = [lead(source, words).lower() for source in sources]
    hyp_tokens = [_WORDS.tokenize(h) for h in hyps]
    ref_texts = [list(refs) for refs in references]
    ref_tokens = [[_WORDS.tokenize(r) for r in refs] for refs in ref_texts]
    scores, signatures, chosen = score_outputs(hyps, hyp_tokens, ref_texts, ref_tokens, SCORES)
    lowered = [[r.lower() for r in refs] for refs in ref_texts]
    scores["bleu_lc"] = score_outputs(hyps, hyp_tokens, lowered, ref_tokens, ("bleu",))[0]["bleu"]
    return {
        "scores": scores,
        "bleu_signature": signatures["bleu"],
        "mean_lead_words": sum(map(len, hyp_tokens)) / len(hyps),
        "samples": [
            {"lead": h, "reference": refs[i]} for h, refs, i in zip(hyps[:5], ref_texts[:5], chosen[:5])
        ],
    }


def run_dataset(name: str) -> list[dict]:
    """The rows of one dataset (its splits in :data:`ROWS`)."""
    mean, words = word_budget([p.target for p in read_dataset_pairs(name, "train").pairs])
    bodies = aeslc_bodies(resolve_split(name, "valid")) if name == "aeslc" else {}
    rows = []
    for split in ROWS[name]:
        grouped = group_references(read_dataset_pairs(name, split).pairs)
        sources = list(grouped)
        if name == "aeslc":
            missing = [s for s in sources if s not in bodies]
            if missing:
                raise DataError(f"aeslc {split}: {len(missing)} sources not found in the raw archive")
            sources = [bodies[s] for s in sources]
        result = score_lead(sources, list(grouped.values()), words)
        references = sum(len(refs) for refs in grouped.values())
        rows.append(
            {"dataset": name, "split": split, "sources": len(sources), "references": references}
            | {"train_mean_words": mean, "lead_words": words}
            | result
        )
    return rows


def machine() -> dict:
    """CPU model, cores, load average, Python, commit."""
    return {
        "cpu": cpu_line(),
        "cores": os.cpu_count(),
        "loadavg": load_average(),
        "python": platform.python_version(),
        "commit": git_commit(REPO),
    }


def table(rows: Sequence[dict]) -> str:
    """The printed table: one line per dataset and split."""
    head = f"{'dataset':<10} {'split':<10} {'n':>5} {'words':>5} {'R-1':>6} {'R-2':>6} {'R-L':>6}"
    lines = [head + f" {'BLEU':>6} {'BLEUlc':>6}", "-" * (len(head) + 14)]
    for row in rows:
        scores = " ".join(f"{row['scores'][k]:>6.2f}" for k in (*SCORES, "bleu_lc"))
        lines.append(
            f"{row['dataset']:<10} {row['split']:<10} {row['sources']:>5} {row['lead_words']:>5} {scores}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=sorted(ROWS), default=list(ROWS))
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "lead_baseline.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = [row for name in args.datasets for row in run_dataset(name)]
    payload = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "wall_s": round(time.perf_counter() - start, 2),
        "rows": rows,
    }
    print(table(rows))
    for name in args.datasets:
        row = next(r for r in rows if r["dataset"] == name)
        mean, words = row["train_mean_words"], row["lead_words"]
        print(f"{name}: mean training target {mean:.2f} words -> lead of {words}")
    print(f"wall {payload['wall_s']} s, {payload['machine']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"JSON: {args.out}")
    return payload


if __name__ == "__main__":
    main()
