"""Decode sources with a trained seqlab Seq2Seq run and time the decoding loop (peers benchmark).

``python seqlab_decode.py --run-dir RUN --src dev.en --out hyps --beam 5 --max-length 60``: loads the
run with ``seqlab.load`` (not timed), then times one ``translate()`` call over all the sources,
64 sentences a batch, no length penalty, and prints ``DECODE_SECONDS <s>``. The hypotheses go to
``--out``, one a line. ``--int8``: the run loads with int8 decoding (``seqlab.load(..., int8=True)``).

``--weights FILE`` decodes with another weights file of the same run (a checkpoint's
``model.safetensors``; the time-to-quality benchmark's snapshots) instead of the run's own (not with
``--int8``, whose packed weights are made at load); ``--length-penalty`` / ``--alpha`` choose the
length penalty (default none, as the peers table uses).
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
    parser.add_argument("--weights", default=None, help="a model.safetensors of the run to decode with")
    parser.add_argument("--length-penalty", default="none", choices=["none", "average", "gnmt"])
    parser.add_argument("--alpha", type=float, default=0.6, help="GNMT length penalty's alpha")
    parser.add_argument("--int8", action="store_true", help="decode with int8 matrix products")
    args = parser.parse_args()
    if args.int8 and args.weights is not None:
        parser.error("--int8 with --weights: the int8 weights are packed at load, from the run's own weights")
    torch.set_num_threads(args.threads)
    # with --weights the run's own weights are not used, so they are not verified either
    predictor = seqlab.load(args.run_dir, verify=args.weights is None, int8=args.int8 or None)
    if args.weights is not None:
        from seqlab.rundir.safetensors_io import load_model_weights

        load_model_weights(Path(args.weights), predictor.model)
    sources = Path(args.src).read_text(encoding="utf-8").splitlines()
    start = time.perf_counter()
    translations = predictor.translate(
        sources,
        beam_size=args.beam,
        batch_size=args.batch_size,
        max_length=args.max_length,
        length_penalty=args.length_penalty,
        alpha=args.alpha,
        replace_unk=False,
    )
    seconds = time.perf_counter() - start
    Path(args.out).write_text("".join(t.text + "\n" for t in translations), encoding="utf-8")
    print(f"DECODE_SECONDS {seconds:.4f}", flush=True)


if __name__ == "__main__":
    main()
