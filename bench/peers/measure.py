"""Run one toolkit command as a subprocess and watch its memory.

:func:`run_watched` starts the command in its own process group, sends its stdout and stderr to a
log file, and every ``interval`` seconds reads the memory of the whole process tree (the command and
every process it started, e.g. OpenNMT-py's data-loader workers) with psutil:

- ``peak_tree_mb``: the largest sum over the tree of PSS (proportional set size: a page shared by
  k processes counts 1/k in each, so forked workers are not counted twice; for a single process
  PSS is its resident set less its share of pages shared with other programs' processes);
- ``peak_main_rss_mb``: the largest resident set of the command's own process.

Polling can miss a peak shorter than ``interval``; the training runs here last minutes and their
memory grows and stays, so the error is small.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 1024 * 1024


@dataclass
class Watched:
    command: list[str]
    returncode: int
    wall_s: float
    peak_tree_mb: float
    peak_main_rss_mb: float
    log: str  # path of the combined stdout/stderr

    def text(self) -> str:
        return Path(self.log).read_text(encoding="utf-8", errors="replace")

    def check(self) -> Watched:
        if self.returncode != 0:
            tail = "\n".join(self.text().splitlines()[-25:])
            raise RuntimeError(f"{' '.join(self.command)} exited {self.returncode}; log {self.log}:\n{tail}")
        return self


def tree_memory(root: psutil.Process) -> tuple[float, float]:
    """(sum of PSS over the tree, RSS of the root) in bytes; processes that vanish are skipped."""
    try:
        procs = [root, *root.children(recursive=True)]
        main_rss = root.memory_info().rss
    except psutil.Error:
        return 0.0, 0.0
    total = 0.0
    for proc in procs:
        try:
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except psutil.Error:
            continue
    return total, float(main_rss)


def run_watched(
    command: list[str],
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    interval: float = 0.25,
    timeout_s: float | None = None,
) -> Watched:
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_tree = peak_main = 0.0
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        watched = psutil.Process(proc.pid)
        try:
            while proc.poll() is None:
                tree, main = tree_memory(watched)
                peak_tree, peak_main = max(peak_tree, tree), max(peak_main, main)
                if timeout_s is not None and time.perf_counter() - start > timeout_s:
                    os.killpg(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:  # still running 10 s after SIGTERM
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                    break
                time.sleep(interval)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    wall = time.perf_counter() - start
    return Watched(command, proc.returncode, wall, peak_tree / MB, peak_main / MB, str(log))


def thread_env(threads: int) -> dict[str, str]:
    """The environment for a toolkit subprocess: OpenMP/MKL pools capped at ``threads`` too."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(threads)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env
