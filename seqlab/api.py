"""``seqlab.load(run_dir)``: the one door through which the CLI (and later the server, export and
comparison) use a trained model.

A run directory describes itself: config, tokenizer, vocabulary (and labels) and safetensors
weights are all that is read, so a model loads with no other file. ``load`` returns the predictor of
the run's task: :class:`~seqlab.predictors.language_model.LanguageModelPredictor`,
:class:`~seqlab.predictors.ClassifierPredictor` or :class:`~seqlab.predictors.TaggerPredictor` or
:class:`~seqlab.predictors.seq2seq.Seq2SeqPredictor` (``translate``, ``evaluate``); each has
``encode(texts, pool)`` for sentence vectors.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.config import load_config
from seqlab.decoding.chain import build_processors
from seqlab.errors import ConfigError
from seqlab.predictors import ClassifierPredictor, TaggerPredictor
from seqlab.predictors.common import check_run
from seqlab.predictors.language_model import LanguageModelPredictor, LineScore
from seqlab.rundir.names import CONFIG_FILE
from seqlab.rundir.read import require_run_dir

__all__ = ["LanguageModelPredictor", "LineScore", "Predictor", "build_processors", "load"]


Predictor = LanguageModelPredictor | ClassifierPredictor | TaggerPredictor


def load(
    run_dir: str | Path, device: str = "cpu", verify: bool = True, int8: bool | None = None
) -> Predictor:
    """Load a trained run directory; returns a predictor for its model family.

    The run's files are checked against its manifests first (:mod:`seqlab.rundir.manifest`), each hashed
    once: :class:`~seqlab.errors.IntegrityError` names a file that changed, is missing or is not a
    regular file. ``verify=False`` skips the check (for someone repairing a run by hand). A run
    written before manifests existed loads with a one-line warning.

    ``int8``: a Seq2Seq LSTM run decodes with int8 matrix products on the CPU (True), in float32
    (False), or as its ``decoding.int8`` says (None); where int8 does not apply (another model
    family, a GRU, a GPU) ``int8=True`` is refused with a ConfigError.
    """
    run_dir = Path(run_dir)
    require_run_dir(run_dir)
    check_run(run_dir, verify)
    cfg = load_config(run_dir / CONFIG_FILE)
    if int8 and cfg.task != "seq2seq":
        raise ConfigError(f"{run_dir}: int8 decoding is for Seq2Seq runs (this is a {cfg.task} run)")
    if cfg.task == "language_model":
        return LanguageModelPredictor(run_dir, device, verify=False)  # verified just now
    if cfg.task == "classifier":
        return ClassifierPredictor(run_dir, device, verify=False)
    if cfg.task == "tagger":
        return TaggerPredictor(run_dir, device, verify=False)
    if cfg.task == "seq2seq":
        from seqlab.predictors.seq2seq import Seq2SeqPredictor

        return Seq2SeqPredictor(run_dir, device, verify=False, int8=int8)
    raise ConfigError(f"{run_dir}: task {cfg.task!r} has no predictor yet")
