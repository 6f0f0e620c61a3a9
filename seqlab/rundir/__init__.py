"""The run directory's format: every file name it holds (:mod:`~seqlab.rundir.names`), atomic file
writes (:mod:`~seqlab.rundir.files`), manifests (:mod:`~seqlab.rundir.manifest`) and safetensors I/O
(:mod:`~seqlab.rundir.safetensors_io`). It imports nothing of seqlab's but :mod:`seqlab.errors`, so
loading a model for inference never imports :mod:`seqlab.training`; the checks before training writes
a run directory live in :mod:`seqlab.training.run_dir`, beside the code that writes it."""
