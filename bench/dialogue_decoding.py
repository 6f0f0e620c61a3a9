"""Decoding against dull and repeated answers on DailyDialog validation (issue 16, items 3 and 4):
one trained chatbot, several decoding methods, the dialogue metrics of each.

For a Seq2Seq run trained on DailyDialog (configs/dailydialog_attention.yaml; any run of
``data.format: dailydialog``, its contexts built with its own ``context_turns``) this decodes the
catalogue's validation contexts once per method and scores them with
:func:`seqlab.metrics.references.score_outputs`, the function ``seqlab evaluate --dialogue`` calls:
cumulative BLEU-1/2 (sacreBLEU), distinct-1/2 (unique n-grams / all n-grams of the outputs, x100) and
the share of outputs that are one of the ten most frequent (x100); beside them ``bleu1_lc`` /
``bleu2_lc``, the same BLEU against lowercased references (a lowercasing recipe cannot produce
case, and sacreBLEU is case-sensitive), the length ratio (output / closest reference, in target
tokens: BLEU's brevity penalty follows it) and the mean output length in tokens. Rows: ``valid``
(the 7,069 pairs) and ``valid_unseen`` (without the 69 validation dialogues that also occur
verbatim in train; its contexts are a subset of ``valid``'s, so their outputs are taken from the
same decoding). The teacher-forced perplexity of each split (:meth:`Seq2SeqPredictor.perplexity`,
the Trainer's loop) does not depend on decoding and is given once.

Methods (``--methods``; each a set of ``translate`` keywords, composed with the run's decoding
section, so beam 5 unless set):

- ``beam``: the run's beam search, nothing else;
- ``block``: beam + ``no_repeat_ngram=3`` (no 3-gram twice in an answer);
- ``greedy``: beam 1;
- ``diverse``: diverse beam search, 5 groups of 2 (beam 10), strength ``--diversity-strength``;
  the answer is the best of all groups;
- ``mmi``: beam 10, the whole beam reranked by MMI anti-LM (``--mmi-lm``, a language model trained
  on the replies: configs/dailydialog_reply_lm.yaml) with ``--mmi-lambda`` / ``--mmi-gamma``;
- ``diverse_mmi``: the diverse beam above, reranked by MMI;
- ``sample``: top-p 0.9 sampling, seed 1 (for reference: diverse, but not searched).

``--max-pairs N`` scores a seeded sample of N validation contexts (for tuning lambda quickly; the
sample is the same for every method). ``--samples K`` keeps K exchanges (context, reference and each
method's answer), seeded, from ``valid_unseen``. Run from the repository root (one thread)::

    OMP_NUM_THREADS=1 .venv/bin/python bench/dialogue_decoding.py runs/dailydialog \\
        --mmi-lm runs/dailydialog_reply_lm --out bench/results/dailydialog_decoding.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from lead_baseline import machine  # noqa: E402

from seqlab.api import load  # noqa: E402
from seqlab.data.catalogue.seq2seq_pairs import read_dataset_pairs  # noqa: E402
from seqlab.metrics.references import DIALOGUE_SCORES, group_references, score_outputs  # noqa: E402
from seqlab.metrics.sequences import length_ratio  # noqa: E402

SPLITS = ("valid", "valid_unseen")
METHODS = ("beam", "block", "greedy", "diverse", "mmi", "diverse_mmi", "sample")


def method_options(name: str, args: argparse.Namespace) -> dict:
    """The ``translate`` keywords of method ``name``."""
    diverse = {"beam_size": 10, "diverse_groups": 5, "diversity_strength": args.diversity_strength}
    mmi = {"mmi_lm": args.mmi_lm, "mmi_lambda": args.mmi_lambda, "mmi_gamma": args.mmi_gamma}
    return {
        "beam": {},
        "block": {"no_repeat_ngram": 3},
        "greedy": {"beam_size": 1},
        "diverse": diverse,
        "mmi": {"beam_size": 10, **mmi},
        "diverse_mmi": {**diverse, **mmi},
        "sample": {"sampling": True, "top_p": 0.9, "seed": 1},
    }[name]


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a Seq2Seq run trained on dailydialog")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS[:6]))
    parser.add_argument("--mmi-lm", type=Path, default=None)
    parser.add_argument("--mmi-lambda", type=float, default=0.5)
    parser.add_argument("--mmi-gamma", type=int, default=5)
    parser.add_argument("--diversity-strength", type=float, default=0.5)
    parser.add_argument("--max-pairs", type=int, default=0, help="a seeded sample of N contexts (0: all)")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "dailydialog_decoding.json")
    args = parser.parse_args(argv)
    if args.mmi_lm is None and {"mmi", "diverse_mmi"} & set(args.methods):
        parser.error("method mmi: needs --mmi-lm, a language-model run trained on the replies")
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    predictor = load(args.run)
    data = predictor.config.data
    if data.format != "dailydialog":
        parser.error(f"{args.run}: data.format is {data.format!r}, not a dailydialog model")
    pairs = {split: read_dataset_pairs("dailydialog", split, data).pairs for split in SPLITS}
    grouped = {split: group_references(pairs[split]) for split in SPLITS}
    contexts = list(grouped["valid"])
    if args.max_pairs:
        contexts = sorted(random.Random(1).sample(contexts, min(args.max_pairs, len(contexts))))
    chosen = set(contexts)
    payload: dict = {
        "run": str(args.run),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "contexts": {s: sum(1 for c in grouped[s] if c in chosen) for s in SPLITS},
        "pairs": {},
        "perplexity": {},
        "methods": {},
    }
    for split in SPLITS:
        kept = [p for p in pairs[split] if p.source in chosen]
        payload["pairs"][split] = len(kept)
        payload["perplexity"][split] = predictor.perplexity(kept)
    for name in args.methods:
        began = time.perf_counter()
        options = method_options(name, args)
        outputs = predictor.translate(contexts, **options)
        seconds = time.perf_counter() - began
        by_context = dict(zip(contexts, outputs))
        row: dict = {
            "options": {k: str(v) for k, v in options.items()},
            "seconds": seconds,
        }
        for split in SPLITS:
            keys = [c for c in grouped[split] if c in chosen]
            refs = [grouped[split][c] for c in keys]
            ref_tokens = [[predictor.pipeline.target_tokens(r) for r in rs] for rs in refs]
            found = [by_context[c] for c in keys]
            hyp_texts, hyp_tokens = [o.text for o in found], [o.tokens for o in found]
            scores, _, closest = score_outputs(hyp_texts, hyp_tokens, refs, ref_tokens, DIALOGUE_SCORES)
            lowered = [[r.lower() for r in rs] for rs in refs]
            lower, _, _ = score_outputs(hyp_texts, hyp_tokens, lowered, ref_tokens, ("bleu1", "bleu2"))
            scores |= {f"{k}_lc": v for k, v in lower.items()}
            best = [rs[i] for rs, i in zip(ref_tokens, closest)]
            scores["length_ratio"] = length_ratio(hyp_tokens, best)
            scores["mean_tokens"] = sum(map(len, hyp_tokens)) / len(hyp_tokens)
            row[split] = scores
        row["answers"] = {c: by_context[c].text for c in contexts}
        payload["methods"][name] = row
        print(f"{name}: {seconds:.0f} s, valid {row['valid']}", flush=True)
    unseen = [c for c in grouped["valid_unseen"] if c in chosen]
    picked = sorted(random.Random(2).sample(unseen, min(args.samples, len(unseen))), key=unseen.index)
    payload["samples"] = [
        {"context": c, "reference": grouped["valid_unseen"][c][0]}
        | {name: payload["methods"][name]["answers"][c] for name in args.methods}
        for c in picked
    ]
    for row in payload["methods"].values():
        del row["answers"]
    payload["wall_s"] = round(time.perf_counter() - start, 1)
    payload["machine"] = machine()
    print(table(payload))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"JSON: {args.out}")
    return payload


def table(payload: dict) -> str:
    """One line per method and split: perplexity, BLEU-1/2, distinct-1/2, top-10 share, seconds."""
    head = f"{'method':<12} {'split':<13} {'ppl':>6} {'BLEU-1':>7} {'BLEU-2':>7} {'dist-1':>7} {'dist-2':>7}"
    head += f" {'top-10':>7} {'B-2 lc':>7} {'len':>5} {'s':>6}"
    lines = [head, "-" * len(head)]
    for name, row in payload["methods"].items():
        for split in SPLITS:
            s = row[split]
            figures = " ".join(f"{s[k]:>7.2f}" for k in (*DIALOGUE_SCORES, "bleu2_lc"))
            ppl = payload["perplexity"][split]["ppl"]
            tail = f"{s['length_ratio']:>5.2f} {row['seconds']:>6.0f}"
            lines.append(f"{name:<12} {split:<13} {ppl:>6.1f} {figures} {tail}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
