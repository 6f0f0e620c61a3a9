"""One rank of the two-process DDP test (run by test_distributed.py with torchrun-style env vars).

Usage: python ddp_worker.py RUN_DIR OUT_DIR. Each rank trains one step on its half of the global
batch, validates on its half of the validation batches, and writes its parameters and metrics.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from training_toys import FixedLoader, ToyBatch, ToyModel, ToyValid, ddp_config, global_batch

from seqlab.training.distributed import cleanup, init_distributed
from seqlab.training.trainer import Trainer


def main() -> None:
    run_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    info = init_distributed()
    assert info.world_size == 2
    batch = global_batch()
    half = batch.inputs.numel() // info.world_size
    rows = slice(info.rank * half, (info.rank + 1) * half)
    valid = ToyValid()
    valid.batches = valid.batches[info.rank :: info.world_size]
    torch.manual_seed(0)
    model = ToyModel(dropout=0.0, carry=False)
    trainer = Trainer(
        model, ddp_config(), FixedLoader([ToyBatch(batch.inputs[rows], batch.targets[rows])]), valid, run_dir
    )
    result = trainer.fit()
    params = {k: v.detach().clone().contiguous() for k, v in model.named_parameters()}
    save_file(params, str(out_dir / f"rank{info.rank}.safetensors"))
    (out_dir / f"rank{info.rank}.json").write_text(json.dumps(result["valid"]))
    cleanup()


if __name__ == "__main__":
    main()
