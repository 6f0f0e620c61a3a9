"""Decode sources with a trained seqlab Seq2Seq run and time the decoding loop (peers benchmark).

``python seqlab_decode.py --run-dir RUN --src dev.en --out hyps --beam 5 --max-length 60``: loads the
run with ``seqlab.load`` (not timed), then times one ``translate()`` call over all the sources,
64 sentences a batch, no length penalty, and prints ``DECODE_SECONDS <s>``. The hypotheses go to
``--out``, one a line. ``--int8``: the run loads with int8 decoding (``seqlab.load(..., int8=True)``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import seqlab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--src", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--max-length", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--int8", action="store_true", help="decode with int8 matrix products")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    predictor = seqlab.load(args.run_dir, int8=args.int8 or None)
    sources = Path(args.src).read_text(encoding="utf-8").splitlines()
    start = time.perf_counter()
    translations = predictor.translate(
        sources,
        beam_size=args.beam,
        batch_size=args.batch_size,
        max_length=args.max_length,
        length_penalty="none",
        replace_unk=False,
    )
    seconds = time.perf_counter() - start
    Path(args.out).write_text("".join(t.text + "\n" for t in translations), encoding="utf-8")
    print(f"DECODE_SECONDS {seconds:.4f}", flush=True)


if __name__ == "__main__":
    main()
