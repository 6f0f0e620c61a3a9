"""The machine a benchmark ran on, for its printed table and its JSON: one definition for every script.

Each script in ``bench/`` (and ``bench/peers/``) names the CPU, the core count and the commit it
measured; these helpers read them the same way everywhere.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``; ``platform``'s answer where that is missing."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


# the instruction sets that decide how fast float32, bf16 and int8 products run here
MATMUL_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """Which of :data:`MATMUL_FLAGS` this CPU reports in ``/proc/cpuinfo`` (empty where unreadable)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                return [flag for flag in MATMUL_FLAGS if flag in present]
    except OSError:
        pass
    return []


def cpu_line() -> str:
    """``MODEL [flags]``: the model name and the matrix-product instruction sets it has."""
    flags = cpu_flags()
    return f"{cpu_model()} [{' '.join(flags)}]" if flags else cpu_model()


def git_commit(repo: Path = REPO) -> str:
    """The short commit of ``repo``'s HEAD, or ``unknown`` outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages, rounded (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []
