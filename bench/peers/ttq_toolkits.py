"""How the time-to-quality benchmark trains, checkpoints, times and decodes seqlab and OpenNMT-py.

Both run through ``launch.py THREADS MODULE ...`` (``torch.set_num_threads`` first), seqlab from the
project's environment and OpenNMT-py from ``bench/peers/.venv``, each with its config written from
``bench/peers/configs/{seqlab_ttq_<task>,opennmt_ttq}.yaml`` (``configs.write_config``).

Checkpoints are saved every ``save_steps`` steps (the benchmark picks the number from a short probe
run, so that they come about every ``--checkpoint-every-minutes``):

- OpenNMT-py keeps every ``model_step_N.pt`` (``keep_checkpoint: -1``);
- seqlab replaces ``RUN/last`` at each save (``training.save_every``), so :class:`Snapshots` watches
  the run directory and hard-links each new checkpoint's ``model.safetensors`` and ``state.json``
  into ``snapshots/step-N/`` before the next save removes it (a hard link costs no copy, and the
  removed folder's files stay readable through it).

A checkpoint's time is the wall clock from the launch of the toolkit's training process to the
modification time of its weights file, the moment it was written: the same clock for both toolkits,
with startup, data loading, vocabulary building, the recipe's own validations and saving inside it.
Decoding for the benchmark's scores happens after training, from those files, off the clock.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from ttq_data import TaskData

from configs import write_config

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE / ".venv" / "bin" / "python"
LAUNCH = HERE / "launch.py"
TOOLKITS = ("seqlab", "opennmt")
MAX_OUTPUT = {"g2p": 40, "multi30k": 100}  # decoding length bound (target tokens), both toolkits
ONMT_WORD_VEC = {"g2p": 128, "multi30k": 256}
NEVER = 100_000_000  # OpenNMT-py's train_steps: the benchmark stops it at its budget

ONMT_STEP = re.compile(r"Step\s+(\d+)/\s*\d+;.*?(\d+) sec;")
ONMT_CKPT = re.compile(r"model_step_(\d+)\.pt$")
SEQLAB_CKPT = re.compile(r"ckpt-last-(\d+)-[0-9a-f]+$")


@dataclass(frozen=True)
class TrainSpec:
    threads: int
    seed: int
    minutes: float  # seqlab's max_minutes (the process is stopped at the budget in any case)
    save_steps: int
    log_every: int
    onmt_workers: int
    seqlab_set: tuple[str, ...] = ()  # SECTION.KEY=VALUE overrides of seqlab's config (candidates)


def python_for(toolkit: str) -> str:
    return sys.executable if toolkit == "seqlab" else str(PEERS_PYTHON)


def train_command(toolkit: str, info: TaskData, run_dir: Path, spec: TrainSpec) -> list[str]:
    """Write the toolkit's config for ``info.task`` into ``run_dir``; the command that trains it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    head = [python_for(toolkit), str(LAUNCH), str(spec.threads)]
    files = info.files
    if toolkit == "opennmt":
        stem, src, tgt = files["onmt_train"], files["src_ext"], files["tgt_ext"]
        cfg = write_config(
            "opennmt-ttq",
            run_dir / "opennmt.yaml",
            model_dir=run_dir / "model",
            src_vocab=info.path(files["onmt_src_vocab"]),
            tgt_vocab=info.path(files["onmt_tgt_vocab"]),
            train_src=info.path(f"{stem}.{src}"),
            train_tgt=info.path(f"{stem}.{tgt}"),
            save_steps=spec.save_steps,
            train_steps=NEVER,
            log_every=spec.log_every,
            seed=spec.seed,
            onmt_workers=spec.onmt_workers,
            word_vec_size=ONMT_WORD_VEC[info.task],
        )
        return [*head, "onmt.bin.train", "-config", str(cfg)]
    cfg = write_config(
        f"seqlab-ttq-{info.task}",
        run_dir / "seqlab.yaml",
        data=info.directory,
        seed=spec.seed,
        threads=spec.threads,
        minutes=spec.minutes,
        save_every=spec.save_steps,
        log_every=spec.log_every,
    )
    overrides = [word for item in spec.seqlab_set for word in ("--set", item)]
    return [*head, "seqlab", "train", str(cfg), "--run-dir", str(run_dir / "run"), *overrides]


def rate_from_log(toolkit: str, run_dir: Path, log_text: str) -> float | None:
    """Training steps per second from the run's own progress records, first record to last (the
    startup before the first record left out); None with fewer than two records."""
    if toolkit == "opennmt":
        points = [(int(m[1]), float(m[2])) for m in ONMT_STEP.finditer(log_text)]
    else:
        metrics = run_dir / "run" / "metrics.jsonl"
        lines = metrics.read_text().splitlines() if metrics.is_file() else []
        records = [json.loads(line) for line in lines if line.strip()]
        points = [(int(r["step"]), float(r["elapsed_s"])) for r in records if r.get("split") == "train"]
    if len(points) < 2 or points[-1][1] <= points[0][1]:
        return None
    return (points[-1][0] - points[0][0]) / (points[-1][1] - points[0][1])


def save_steps_for(rate: float, minutes: float) -> int:
    """The checkpoint interval in steps that ``rate`` steps/s turns into about ``minutes`` minutes."""
    return max(1, round(rate * minutes * 60))


class Snapshots:
    """Hard-link each new seqlab ``ckpt-last-N-*`` checkpoint of ``run`` into ``out/step-N/`` while
    training runs (a thread polling every ``interval`` seconds); ``missed`` counts checkpoints that
    were gone before they could be linked."""

    FILES = ("model.safetensors", "state.json")

    def __init__(self, run: Path, out: Path, interval: float = 0.5) -> None:
        self.run, self.out, self.interval = run, out, interval
        self.seen: set[str] = set()
        self.missed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Snapshots:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()  # the final save

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        if not self.run.is_dir():
            return
        for folder in self.run.iterdir():
            match = SEQLAB_CKPT.match(folder.name)
            if match is None or folder.name in self.seen:
                continue
            self.seen.add(folder.name)
            target = self.out / f"step-{int(match[1])}"
            try:
                target.mkdir(parents=True, exist_ok=True)
                for name in self.FILES:
                    if not (target / name).exists():
                        os.link(folder / name, target / name)
            except FileNotFoundError:
                self.missed += 1


@dataclass(frozen=True)
class Checkpoint:
    step: int
    weights: Path
    minutes: float  # from the launch of the training process to the weights file's mtime


def checkpoints(toolkit: str, run_dir: Path, launched_at: float) -> list[Checkpoint]:
    """The run's checkpoints in step order, each timed from ``launched_at`` (``time.time()``)."""
    found = []
    if toolkit == "opennmt":
        for path in (run_dir / "model").glob("model_step_*.pt"):
            match = ONMT_CKPT.search(path.name)
            if match:
                found.append((int(match[1]), path))
    else:
        for folder in (run_dir / "snapshots").glob("step-*"):
            weights = folder / "model.safetensors"
            if weights.is_file():
                found.append((int(folder.name.split("-")[1]), weights))
    return [
        Checkpoint(step, path, (path.stat().st_mtime - launched_at) / 60.0) for step, path in sorted(found)
    ]


def decode_command(
    toolkit: str, info: TaskData, run_dir: Path, ckpt: Checkpoint, out: Path, beam: int, alpha: float,
    threads: int,
) -> list[str]:  # fmt: skip
    """Decode the task's test sources with one checkpoint into ``out`` (batches of 64)."""
    head = [python_for(toolkit), str(LAUNCH), str(threads)]
    max_length = str(MAX_OUTPUT[info.task])
    if toolkit == "opennmt":
        penalty = ["-length_penalty", "wu", "-alpha", str(alpha)] if alpha else ["-length_penalty", "none"]
        return [
            *head, "onmt.bin.translate", "-model", str(ckpt.weights),
            "-src", str(info.path(info.files["onmt_test_src"])), "-output", str(out),
            "-beam_size", str(beam), "-batch_size", "64", "-batch_type", "sents", "-max_length", max_length,
            "-min_length", "0", *penalty, "-n_best", "1", "-gpu", "-1", "-seed", "1",
        ]  # fmt: skip
    return [
        *head, str(HERE / "seqlab_decode.py"), "--run-dir", str(run_dir / "run"),
        "--weights", str(ckpt.weights), "--src", str(info.path(info.files["seqlab_test_src"])),
        "--out", str(out), "--beam", str(beam),
        "--max-length", max_length, "--length-penalty", "gnmt" if alpha else "none", "--alpha", str(alpha),
        "--batch-size", "64", "--threads", str(threads),
    ]  # fmt: skip


def read_outputs(toolkit: str, out: Path, detokenize: object) -> list[str]:
    """The decoded text, one line per test source: OpenNMT-py's Multi30k pieces joined back by the
    benchmark's sentencepiece model (seqlab's outputs are already text)."""
    lines = out.read_text(encoding="utf-8").split("\n")[:-1]
    if toolkit == "opennmt" and callable(detokenize):
        return [detokenize(line.split()) for line in lines]
    return lines


def same_sentencepiece(info: TaskData, run_dir: Path) -> bool | None:
    """Whether seqlab fitted the same sentencepiece models as the benchmark's (Multi30k); None for G2P."""
    if info.task != "multi30k":
        return None
    for ours, theirs in (("spm.en", "source_tokenizer"), ("spm.de", "target_tokenizer")):
        fitted = run_dir / "run" / theirs / "spm.model"
        if not fitted.is_file() or fitted.read_bytes() != (info.path(ours) / "spm.model").read_bytes():
            return False
    return True
