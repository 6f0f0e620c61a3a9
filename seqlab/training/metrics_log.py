"""The metrics log: ``RUN/metrics.jsonl`` (one JSON object per line) and optional TensorBoard.

Each record is a flat dict such as ``{"split": "train", "step": 50, "epoch": 0, "loss": 5.1,
"ppl": 164.0, "lr": 0.001, "tokens_per_s": 12000.0, "elapsed_s": 3.2}``. Non-finite floats are
written as ``null`` so every line is strict JSON. On resume the file is cut back to the number of
lines it had when the checkpoint was written, so records after it are not duplicated.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from seqlab.data.readers.lines import decode_utf8
from seqlab.errors import TrainingError
from seqlab.rundir.files import atomic_write_bytes
from seqlab.rundir.names import METRICS_FILE, TENSORBOARD_DIR


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class MetricsLog:
    """Appends records to ``run_dir/metrics.jsonl`` and, when asked, to a TensorBoard writer.

    With ``enabled=False`` (ranks other than 0) every method does nothing.
    """

    def __init__(self, run_dir: Path, enabled: bool = True, tensorboard: bool = False) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self.enabled = enabled
        self.lines = 0
        self._writer: Any = None
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            with open(self.path, "rb") as handle:  # counted as bytes: any damage is judged in truncate
                self.lines = sum(1 for _ in handle)
        if tensorboard:
            self._writer = _tensorboard_writer(Path(run_dir) / TENSORBOARD_DIR)

    def log(self, record: dict[str, Any]) -> None:
        """Write one record (a flat dict with ``split`` and ``step``)."""
        if not self.enabled:
            return
        clean = {key: _clean(value) for key, value in record.items()}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean, allow_nan=False) + "\n")
        self.lines += 1
        if self._writer is not None:
            split, step = record.get("split", "train"), int(record.get("step", 0))
            for key, value in record.items():
                if key in ("split", "step", "epoch") or isinstance(value, bool):
                    continue
                if isinstance(value, int | float) and math.isfinite(value):
                    self._writer.add_scalar(f"{split}/{key}", value, step)
            self._writer.flush()

    def truncate(self, lines: int) -> None:
        """Keep only the first ``lines`` records (atomically); used when resuming a checkpoint.

        Records after them go whatever their bytes; the kept ones must be UTF-8 (DataError naming
        the file and line otherwise, before anything is written).
        """
        if not self.enabled or not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            kept = [line for _, line in zip(range(lines), handle)]
        decode_utf8(b"".join(kept), self.path)
        if self.lines <= lines:
            return
        atomic_write_bytes(self.path, b"".join(kept))
        self.lines = len(kept)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _tensorboard_writer(directory: Path) -> Any:
    """A ``SummaryWriter`` into ``directory``; TrainingError naming the package if missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise TrainingError(
            "training.tensorboard = true needs the tensorboard package: "
            "pip install 'seqlab[tensorboard]' (or set training.tensorboard: false)"
        ) from None
    return SummaryWriter(log_dir=str(directory))
