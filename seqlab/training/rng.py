"""Random number generator state as JSON (python, numpy) and tensors (torch CPU, CUDA).

Exact resume needs every generator the training path draws from: dropout uses torch's, data
shuffling may use python's ``random`` or numpy's global generator.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), python ``random`` and numpy's global generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(json_part, tensors)``: python/numpy states as plain data, torch states as uint8 tensors."""
    version, internal, gauss_next = random.getstate()
    name, key, pos, has_gauss, cached = np.random.get_state(legacy=True)
    json_part = {
        "python": {"version": version, "state": list(internal), "gauss_next": gauss_next},
        "numpy": {
            "bit_generator": name,
            "key": [int(k) for k in key],
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
    }
    tensors = {"torch.cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch.cuda.{index}"] = state
    return json_part, tensors


def restore_rng(json_part: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Put back the states returned by :func:`capture_rng` (CUDA ones only where devices exist)."""
    py = json_part["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss_next"]))
    npy = json_part["numpy"]
    np.random.set_state(
        (
            npy["bit_generator"],
            np.asarray(npy["key"], dtype=np.uint32),
            npy["pos"],
            npy["has_gauss"],
            npy["cached_gaussian"],
        )
    )
    torch.set_rng_state(tensors["torch.cpu"].to("cpu", torch.uint8))
    cuda = sorted((int(k.rsplit(".", 1)[1]), v) for k, v in tensors.items() if k.startswith("torch.cuda."))
    if cuda and torch.cuda.is_available():
        count = torch.cuda.device_count()
        for index, state in cuda:
            if index < count:
                torch.cuda.set_rng_state(state.to("cpu", torch.uint8), index)


@contextmanager
def preserved_rng():
    """Run a block (e.g. validation) without changing any generator the training path uses."""
    json_part, tensors = capture_rng()
    try:
        yield
    finally:
        restore_rng(json_part, tensors)
