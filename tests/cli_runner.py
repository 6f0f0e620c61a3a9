"""``seqlab`` run as a user runs it: a subprocess (``python -m seqlab``), one thread, the output kept.

The end-to-end CLI tests share this one runner (``from cli_runner import run_cli``; ``tests`` is on
pytest's ``pythonpath``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, check: bool = True, cwd: Path = REPO, data_root: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``seqlab ARGS`` in ``cwd`` with ``OMP_NUM_THREADS=1`` (and ``SEQLAB_DATA=data_root`` when
    given); ``check``: a non-zero exit fails the test, showing the command's stdout and stderr."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if data_root is not None:
        env["SEQLAB_DATA"] = str(data_root)
    result = subprocess.run(
        [sys.executable, "-m", "seqlab", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"seqlab {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result
