"""``seqlab compare SPEC.yaml -o REPORT_DIR``: train every contender under one budget and seed, measure
them the same way, and write ``results.json``, the report and the terminal table.

Layout of REPORT_DIR::

    spec.yaml                   the validated spec, frozen at the first run (a rerun must match it)
    contenders/NAME/            an ordinary run directory per contender (seqlab.load works on it)
    contenders/NAME/log.txt     the contender's log (training and measuring)
    contenders/NAME/result.json its measurements; written atomically last: "finished"
    contenders/NAME/seed_S/     with the spec's ``seeds``: one such run directory per seed instead
    results.json, report.md, report.html, figures/

Rerunning the command resumes: a contender with ``result.json`` is skipped, one with a checkpoint
continues from it (``pipeline.train(resume=True)``), the others start. Before any training, each
pending contender's model is built once to check the parameter limit.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from seqlab.compare.report import terminal_report, write_report
from seqlab.compare.results import CONTENDER_RESULT, RESULTS_FILE, assemble, combine_seeds, write_results
from seqlab.compare.spec import CompareSpec, ContenderSpec, contender_config
from seqlab.compare.spec_file import load_spec, spec_to_dict
from seqlab.compare.worker import (
    SPEC_FILE,
    contender_dir,
    count_parameters,
    prepare_lm,
    run_contender,
    seed_spec,
)
from seqlab.errors import ConfigError, TrainingError
from seqlab.rundir.files import atomic_write_bytes
from seqlab.rundir.names import METRICS_FILE

logger = logging.getLogger(__name__)

STATUS_EVERY_S = 30.0

Unit = tuple[ContenderSpec, int | None]  # one run: a contender and its seed (None: the spec's seed)


def unit_label(name: str, seed: int | None) -> str:
    """How a run is named in messages: ``NAME`` or ``NAME/seed_S`` (its folder under contenders/)."""
    return name if seed is None else f"{name}/seed_{seed}"


def units(spec: CompareSpec) -> list[Unit]:
    """Every run of the comparison: each contender once per seed, contender by contender."""
    return [(contender, seed) for contender in spec.contenders for seed in spec.run_seeds]


def freeze_spec(spec: CompareSpec, report_dir: Path) -> None:
    """Save the spec into ``report_dir``; on a rerun, refuse a spec that differs from the saved one."""
    path = report_dir / SPEC_FILE
    ours = spec_to_dict(spec)
    if path.is_file():
        saved = spec_to_dict(load_spec(path))
        if saved != ours:
            keys = sorted(k for k in set(saved) | set(ours) if saved.get(k) != ours.get(k))
            raise ConfigError(
                f"{report_dir} holds a comparison with another spec (differs in: {', '.join(keys)}); "
                "rerun with the same spec to resume it, or choose a new -o REPORT_DIR"
            )
        return
    report_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, yaml.safe_dump(ours, sort_keys=False, allow_unicode=True).encode("utf-8"))


def is_finished(report_dir: Path, name: str, seed: int | None = None) -> bool:
    return (contender_dir(report_dir, name, seed) / CONTENDER_RESULT).is_file()


def _model_size(
    spec: CompareSpec, contender: ContenderSpec, run_dir: Path, scratch: Path, cache: dict
) -> int:
    """Parameters of the contender's model, built (untrained) on its data's vocabularies. The
    language model's lines are written into its run directory now (the worker keeps them)."""
    from seqlab.data.corpora.seq2seq import fit_pipeline, read_seq2seq_splits
    from seqlab.data.readers.lines import read_lines
    from seqlab.models.factory import build_model
    from seqlab.text.tokenizers import build_tokenizer
    from seqlab.text.vocab import Vocabulary

    cfg = contender_config(spec, contender, run_dir)
    if contender.kind == "lm_sep":
        prepare_lm(spec, run_dir)
        tokenize = build_tokenizer(cfg.data.tokenizer).tokenize
        tokens = [tokenize(line) for line in read_lines(Path(cfg.data.train))]
        vocab = Vocabulary.build(tokens, cfg.data.vocab.min_freq, cfg.data.vocab.max_size)
        return count_parameters(build_model(cfg, len(vocab)))
    key = (repr(cfg.data), cfg.training.seed)  # the seed picks a hold-out split
    if key not in cache:
        train, _ = read_seq2seq_splits(cfg)
        pipeline = fit_pipeline(cfg, train.pairs, scratch / f"vocab-{len(cache)}")
        cache[key] = (len(pipeline.source_vocab), len(pipeline.target_vocab))
    source_size, target_size = cache[key]
    return count_parameters(build_model(cfg, source_size, target_vocab_size=target_size))


def check_sizes(spec: CompareSpec, pending: list[Unit], report_dir: Path) -> dict[str, int]:
    """Every pending run's parameter count (by :func:`unit_label`); ConfigError naming each one
    over the limit."""
    limit = spec.budget.max_parameters
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="seqlab-compare-") as scratch:
        cache: dict = {}
        for contender, seed in pending:
            run_dir = contender_dir(report_dir, contender.name, seed)
            size = _model_size(seed_spec(spec, seed), contender, run_dir, Path(scratch), cache)
            sizes[unit_label(contender.name, seed)] = size
    over = {name: size for name, size in sizes.items() if limit is not None and size > limit}
    if over:
        listed = ", ".join(f"{name} has {size:,}" for name, size in over.items())
        raise ConfigError(
            f"budget.max_parameters = {limit:,}: {listed} parameters; shrink them (e.g. "
            "set: [model.hidden_size=...] on the contender, or a smaller shared model section) "
            "or raise the limit"
        )
    return sizes


class _Worker:
    """A contender's run in its own process, logging into ``RUN_DIR/log.txt``."""

    def __init__(self, report_dir: Path, unit: Unit, threads: int | None) -> None:
        contender, self.seed = unit
        self.contender = contender.name
        self.name = unit_label(contender.name, self.seed)
        self.run_dir = contender_dir(report_dir, contender.name, self.seed)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.run_dir / "log.txt"
        env = dict(os.environ)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        self.log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in finish()
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "seqlab.compare.worker", str(report_dir), self.contender]
            + ([] if self.seed is None else [str(self.seed)]),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def status(self) -> str:
        from seqlab.compare.figures import read_metrics_log

        records = [r for r in read_metrics_log(self.run_dir / METRICS_FILE) if r.get("split") == "train"]
        elapsed = f"{time.monotonic() - self.started:.0f} s"
        if not records:
            return f"{self.name} ({elapsed})"
        last = records[-1]
        return f"{self.name} step {last['step']} loss {last.get('loss', float('nan')):.3f} ({elapsed})"

    def tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join("    " + line for line in text[-lines:])

    def close(self) -> None:
        self.log.close()


def _run_isolated(
    report_dir: Path, pending: list[Unit], spec: CompareSpec, echo: Callable[[str], None]
) -> list[str]:
    """Run ``pending`` in subprocesses, ``spec.parallel`` at a time; returns the runs that failed."""
    waiting, running, failed = list(pending), [], []
    last_status = time.monotonic()
    try:
        while waiting or running:
            while waiting and len(running) < spec.parallel:
                worker = _Worker(report_dir, waiting.pop(0), spec.threads)
                echo(f"  {worker.name}: started (log: {worker.log_path})")
                running.append(worker)
            time.sleep(0.2)
            for worker in [w for w in running if w.process.poll() is not None]:
                running.remove(worker)
                worker.close()
                seconds = time.monotonic() - worker.started
                if worker.process.returncode == 0 and is_finished(report_dir, worker.contender, worker.seed):
                    echo(f"  {worker.name}: finished in {seconds:.0f} s")
                else:
                    failed.append(worker.name)
                    code = worker.process.returncode
                    echo(f"  {worker.name}: FAILED (exit {code}); end of {worker.log_path}:\n{worker.tail()}")
            if running and time.monotonic() - last_status >= STATUS_EVERY_S:
                echo("  running: " + "; ".join(w.status() for w in running))
                last_status = time.monotonic()
    except KeyboardInterrupt:
        for worker in running:
            worker.process.terminate()
        for worker in running:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
            worker.close()
        raise
    return failed


def run_compare(
    spec: CompareSpec | str | Path,
    report_dir: str | Path,
    *,
    isolate: bool = True,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run (or resume) the comparison ``spec`` (a spec or its YAML file) into ``report_dir``;
    returns the results.

    ``isolate=False`` trains the contenders one after another in this process (tests): peak memory
    is then not measured (null in results.json), since it would be the whole process's.
    """
    if not isinstance(spec, CompareSpec):
        spec = load_spec(spec)
    report_dir = Path(report_dir).resolve()
    freeze_spec(spec, report_dir)
    pending = [(c, seed) for c, seed in units(spec) if not is_finished(report_dir, c.name, seed)]
    for contender, seed in units(spec):
        if (contender, seed) not in pending:
            echo(f"  {unit_label(contender.name, seed)}: finished earlier, skipped")
    if pending:
        sizes = check_sizes(spec, pending, report_dir)
        echo("  parameters: " + ", ".join(f"{name} {size:,}" for name, size in sizes.items()))
        if isolate:
            try:
                failed = _run_isolated(report_dir, pending, spec, echo)
            except KeyboardInterrupt:
                echo(
                    f"interrupted: rerun the same command to resume; finished contenders stay in {report_dir}"
                )
                raise
        else:
            failed = []
            for contender, seed in pending:
                if seed is None:
                    run_contender(report_dir, contender.name, measure_memory=False)
                else:
                    run_contender(report_dir, contender.name, measure_memory=False, seed=seed)
                echo(f"  {unit_label(contender.name, seed)}: finished")
        if failed:
            raise TrainingError(
                f"contender(s) {', '.join(failed)} failed (see their log.txt); the others are kept: "
                f"rerun the same command to resume"
            )
    return finish_report(spec, report_dir, echo)


def finish_report(spec: CompareSpec, report_dir: Path, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Gather every contender's result into results.json, write the report, print the table."""
    import json

    def result(name: str, seed: int | None) -> dict[str, Any]:
        return json.loads(
            (contender_dir(report_dir, name, seed) / CONTENDER_RESULT).read_text(encoding="utf-8")
        )

    if spec.seeds is None:
        contenders = [result(c.name, None) for c in spec.contenders]
    else:
        contenders = [combine_seeds([result(c.name, seed) for seed in spec.seeds]) for c in spec.contenders]
    results = assemble(spec, contenders)
    write_results(results, report_dir / RESULTS_FILE)
    markdown, page = write_report(results, report_dir)
    echo("")
    echo(terminal_report(results))
    echo(f"\nreport: {page}  (also {markdown.name}, {RESULTS_FILE})")
    return results


def report_only(report_dir: str | Path, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Rebuild the report and the table from ``report_dir/results.json`` alone (e.g. after editing
    a number in it): no training, no decoding."""
    from seqlab.compare.results import load_results

    report_dir = Path(report_dir)
    results = load_results(report_dir / RESULTS_FILE)
    markdown, page = write_report(results, report_dir)
    echo(terminal_report(results))
    echo(f"\nreport: {page}  (also {markdown.name})")
    return results
