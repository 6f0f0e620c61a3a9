"""Run a toolkit's command-line module with the benchmark's thread count, in this interpreter.

``python launch.py THREADS MODULE [ARGS...]`` sets ``torch.set_num_threads(THREADS)`` (and one
inter-op thread) before the module is imported, then runs it as ``python -m MODULE ARGS...`` would
(MODULE ending in ``.py`` is run as a script: ``python MODULE ARGS...``). This folder is taken off
``sys.path`` first, so that its ``data.py`` or ``configs.py`` cannot shadow a toolkit's modules.
Joey NMT and OpenNMT-py have no thread option of their own; seqlab's ``training.threads`` is set
to the same number in its config. Runs under either virtual environment (it needs only torch).
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import torch  # noqa: E402  (after the sys.path fix)


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit("usage: launch.py THREADS MODULE [ARGS...]")
    threads, module = int(sys.argv[1]), sys.argv[2]
    if module.startswith("onmt."):
        # OpenNMT-py 3.0 checkpoints hold an argparse.Namespace, which torch >= 2.6's default
        # torch.load(weights_only=True) refuses; the checkpoints read here were written by the
        # same benchmark run a moment before.
        os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    sys.argv = [module, *sys.argv[3:]]
    if module.endswith(".py"):
        runpy.run_path(module, run_name="__main__")
    else:
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
