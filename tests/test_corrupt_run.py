"""A corrupt run directory: every file of a tiny trained run, mutated in every way we know, meets every
command that reads run directories; each answers with exit 0 (it does not read that file) or a
one-line error and exit 2, never a traceback, and a file listed in a manifest that the command reads
is never accepted changed (issue 14, requirement 3)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from seqlab.cli import main

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("corrupt_tiny_runs", REPO / "tests" / "serve" / "tiny_runs.py")
tiny_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_runs)

MUTATIONS = ("flip", "empty", "delete", "directory")
# the tiny run's own overrides: a resume may change nothing but the budget
RESUME_SETS = [
    arg for value in [*tiny_runs.RECIPES["lm"][1], "training.progress=false"] for arg in ("--set", value)
]


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp() / "tiny_runs"  # shared with tests/serve and test_export
    return tiny_runs.train_tiny("lm", base)


def run_files(run: Path) -> list[str]:
    """Every file and link of the run, relative, without following the ``last``/``best`` links."""
    found = []
    for folder, dirs, files in os.walk(run):
        for name in [*files, *(d for d in dirs if (Path(folder) / d).is_symlink())]:
            rel = (Path(folder) / name).relative_to(run).as_posix()
            if rel != ".trained":
                found.append(rel)
    return sorted(found)


def mutate(path: Path, how: str) -> None:
    """Change ``path`` in place: one flipped byte in its middle, emptied, deleted, or a folder. A link
    (``last``, ``best``) 'flipped' points nowhere; 'emptied' it becomes an empty file."""
    if path.is_symlink() and how in ("flip", "empty"):
        path.unlink()
        if how == "flip":
            path.symlink_to("ckpt-missing")
        else:
            path.write_bytes(b"")
        return
    if how == "flip":
        data = bytearray(path.read_bytes())
        if not data:
            data = bytearray(b"\0")
        data[len(data) // 2] ^= 0x40
        path.unlink()
        path.write_bytes(bytes(data))
    elif how == "empty":
        path.unlink()
        path.write_bytes(b"")
    elif how == "delete":
        path.unlink()
    else:
        path.unlink()
        path.mkdir()


def manifest_entries(run: Path) -> set[str]:
    """Files (relative to the run) that a manifest lists: the run's own and those of its checkpoints."""
    listed = set()
    for manifest in [run / "manifest.json", *run.glob("ckpt-*/manifest.json")]:
        data = json.loads(manifest.read_text())
        names = data.get("files", data)
        for name in names:
            listed.add((manifest.parent / name).relative_to(run).as_posix())
        listed.add(manifest.relative_to(run).as_posix())
    return listed


def commands(run: Path, out: Path) -> dict[str, list[str]]:
    valid = str(REPO / "tests" / "fixtures" / "tiny_valid.txt")
    return {
        "generate": ["generate", str(run), "--max-tokens", "3", "--greedy"],
        "predict-next": ["predict-next", str(run), "the"],
        "score": ["score", str(run), valid],
        "evaluate": ["evaluate", str(run)],
        "encode": ["encode", str(run), valid, "-o", str(out / "vectors.npy")],
        "export": ["export", str(run), "--format", "torchscript", "-o", str(out / "export")],
        "resume": [
            "train",
            str(REPO / "configs" / "tiny_lm.yaml"),
            "--run-dir",
            str(run),
            "--resume",
            *RESUME_SETS,
        ],
    }


def test_the_campaign_covers_every_file_of_the_run(lm_run):
    files = run_files(lm_run)
    for expected in ("config.yaml", "model.safetensors", "manifest.json", "metrics.jsonl", "last", "best"):
        assert expected in files, files
    assert any(f.startswith("ckpt-last-") and f.endswith("optimizer.safetensors") for f in files), files
    assert {f for f in files if f.endswith(".safetensors")} <= manifest_entries(lm_run)


@pytest.mark.parametrize("how", MUTATIONS)
def test_every_command_meets_every_corrupt_file_with_exit_2_and_one_line(lm_run, tmp_path, capsys, how):
    files = run_files(lm_run)
    listed = manifest_entries(lm_run)
    reads_checkpoint = {"resume"}
    failures = []
    os.chdir(REPO)  # the recipe names its fixture files relative to the repository root
    for rel in files:
        case = tmp_path / rel.replace("/", "__")
        run = case / "run"
        shutil.copytree(lm_run, run, symlinks=True)
        target = run / rel
        mutate(target, how)
        for name, argv in commands(run, case).items():
            code = main(argv)
            err = capsys.readouterr().err.strip()
            errors = [line for line in err.splitlines() if "error:" in line]
            if code not in (0, 2) or "Traceback" in err:
                failures.append(f"{rel} {how} / {name}: exit {code}: {err[-300:]}")
            elif code == 2 and len(errors) != 1:
                failures.append(f"{rel} {how} / {name}: not one error line: {err[-300:]}")
            in_checkpoint = rel.startswith(("ckpt-", "last", "best"))
            must_refuse = rel in listed and (not in_checkpoint or name in reads_checkpoint)
            if must_refuse and rel.startswith("ckpt-best-"):
                must_refuse = False  # a resume reads last/, not best/
            if must_refuse and code != 2:
                failures.append(f"{rel} {how} / {name}: a changed manifest file was accepted (exit {code})")
            shutil.rmtree(case / "export", ignore_errors=True)
        shutil.rmtree(case)
    assert not failures, "\n".join(failures)
