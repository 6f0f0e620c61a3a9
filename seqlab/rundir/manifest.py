"""Manifests: the sha256 of every file a run directory or checkpoint folder is read from.

``manifest.json`` sits in the run directory and in each checkpoint folder (``RUN/ckpt-*``, the
targets of ``RUN/last`` and ``RUN/best``)::

    {"format_version": 1, "algorithm": "sha256",
     "files": {"config.yaml": "<hex>", "tokenizer/tokenizer.json": "<hex>", "model.safetensors": "<hex>"}}

Paths are relative to the manifest's folder, with ``/``. The run directory's manifest lists the
files that describe the run (config, tokenizers, vocabularies, labels, the best weights); logs that
grow as training goes (``metrics.jsonl``) and the checkpoint folders (which have their own) are not
listed. A checkpoint's manifest lists every file of the folder. A file that is not listed is not
checked; a listed file that is missing, differs or is not a regular file (a directory, a FIFO) is
refused with :class:`~seqlab.errors.IntegrityError` naming it.

Writes keep the manifest true at every instant: a manifest is written atomically after the files it
lists; :func:`replace_file` first records the new file's digest next to the old one (a value may be a
list of accepted digests), then switches the file with ``os.replace``, then drops the old digest, so a
kill anywhere leaves a run that verifies. Run directories written before manifests existed (no
``manifest.json``) load with a one-line warning and are not verified; a manifest deleted from a run
written with them is refused (a checkpoint's ``state.json`` records its manifest, and a run directory
whose checkpoints have manifests had its own written first).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from seqlab.errors import IntegrityError
from seqlab.rundir.files import atomic_write_bytes, fsync_path
from seqlab.rundir.names import MANIFEST_FILE, STATE_FILE

logger = logging.getLogger(__name__)

# a checkpoint's state.json records {"manifest": "manifest.json"}, so a deleted manifest is noticed
CHECKPOINT_MARKER = "manifest"
FORMAT_VERSION = 1
_REPAIR = "(--no-verify / verify=False loads it anyway, for repairing a run by hand)"


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of a regular file; IntegrityError when it is missing or not a regular file.

    The file is opened without blocking and checked before it is read, so a FIFO is never waited on.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise IntegrityError(f"{path}: missing, but listed in its manifest {_REPAIR}") from None
    except OSError as exc:
        raise IntegrityError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IntegrityError(f"{path}: not a regular file {_REPAIR}")
    with os.fdopen(fd, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _expand(directory: Path, names: Iterable[str]) -> list[str]:
    """``names`` relative to ``directory``, folders replaced by the regular files inside them."""
    found: list[str] = []
    for name in names:
        path = directory / name
        if path.is_dir():
            found += [p.relative_to(directory).as_posix() for p in sorted(path.rglob("*")) if p.is_file()]
        elif os.path.lexists(path):
            found.append(Path(name).as_posix())
    return found


def _write(directory: Path, files: dict[str, list[str]]) -> None:
    entries = {name: digests[0] if len(digests) == 1 else digests for name, digests in sorted(files.items())}
    payload = {"format_version": FORMAT_VERSION, "algorithm": "sha256", "files": entries}
    atomic_write_bytes(directory / MANIFEST_FILE, (json.dumps(payload, indent=1) + "\n").encode("utf-8"))


def write_manifest(directory: Path, names: Iterable[str]) -> None:
    """Hash the files ``names`` (files or folders, relative to ``directory``; absent ones skipped)
    and write ``directory/manifest.json`` atomically, replacing any earlier one."""
    directory = Path(directory)
    _write(directory, {name: [file_sha256(directory / name)] for name in _expand(directory, names)})


def read_manifest(directory: Path) -> dict[str, list[str]] | None:
    """``{relative path: accepted digests}`` of ``directory``'s manifest; None when it has none."""
    path = Path(directory) / MANIFEST_FILE
    if not os.path.lexists(path):
        return None
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise IntegrityError(f"{path}: not a readable manifest ({exc}) {_REPAIR}") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or data.get("format_version") != FORMAT_VERSION:
        raise IntegrityError(
            f"{path}: not a manifest of format_version {FORMAT_VERSION} with a 'files' object {_REPAIR}"
        )
    return {name: [value] if isinstance(value, str) else list(value) for name, value in files.items()}


def _written_with_manifests(directory: Path) -> str | None:
    """Why ``directory`` must have a manifest although it has none, or None (a folder from before
    manifests): a run directory one of whose checkpoints has a manifest (the run's own is written
    before any checkpoint), or a checkpoint whose ``state.json`` records its manifest."""
    for manifest in sorted(directory.glob(f"ckpt-*/{MANIFEST_FILE}")):
        return f"its checkpoint {manifest.parent.name} has one: the run was written with manifests"
    try:
        state = json.loads((directory / STATE_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if isinstance(state, dict) and state.get(CHECKPOINT_MARKER) == MANIFEST_FILE:
        return f"its {STATE_FILE} records one: the checkpoint was written with a manifest"
    return None


def verify_manifest(directory: Path, only: Iterable[str] | None = None) -> bool:
    """Check the files ``directory``'s manifest lists (or the listed ones among ``only``) against their
    digests; IntegrityError naming the first that differs. Returns False, with a warning, when the
    folder has no manifest (written before manifests existed)."""
    directory = Path(directory)
    listed = read_manifest(directory)
    if listed is None and (evidence := _written_with_manifests(directory)):
        raise IntegrityError(f"{directory / MANIFEST_FILE}: missing, but {evidence} {_REPAIR}")
    if listed is None:
        logger.warning(
            "%s: no %s (written by a seqlab from before manifests): its files are not verified",
            directory,
            MANIFEST_FILE,
        )
        return False
    wanted = listed if only is None else [name for name in only if name in listed]
    for name in wanted:
        digest = file_sha256(directory / name)
        if digest not in listed[name]:
            raise IntegrityError(
                f"{directory / name}: sha256 {digest[:12]}... differs from its manifest "
                f"({directory / MANIFEST_FILE}): the file changed after it was saved {_REPAIR}"
            )
    return True


def verify_run(run_dir: Path, weights: Path) -> None:
    """Verify a run directory's manifest and, when ``weights`` lie in a checkpoint folder of it
    (``RUN/last``), that folder's manifest entry for them."""
    run_dir = Path(run_dir)
    verify_manifest(run_dir)
    if Path(weights).parent != run_dir:
        verify_manifest(Path(weights).parent, only=[Path(weights).name])


def replace_file(path: Path, write: Callable[[Path], None]) -> None:
    """Atomically replace ``path`` by what ``write(tmp)`` writes into a temporary sibling, keeping the
    folder's manifest (when it has one) true at every instant (see the module doc)."""
    path = Path(path)
    directory, name = path.parent, path.name
    for leftover in directory.glob(f".tmp-{name}-*"):  # from a crashed earlier write
        leftover.unlink(missing_ok=True)
    tmp = directory / f".tmp-{name}-{secrets.token_hex(4)}"
    try:
        write(tmp)
        fsync_path(tmp)
        listed = read_manifest(directory)
        if listed is not None:
            new = file_sha256(tmp)
            _write(directory, {**listed, name: [*listed.get(name, []), new]})
        os.replace(tmp, path)
        fsync_path(directory)
        if listed is not None:
            _write(directory, {**listed, name: [new]})
    finally:
        tmp.unlink(missing_ok=True)
