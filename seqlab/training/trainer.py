"""One Trainer for every model family, through ``model.loss(batch) -> (loss, stats)``.

The loop is a handful of hook-sized methods: :meth:`Trainer.train_step`, :meth:`Trainer.validate`,
:meth:`Trainer.save`, :meth:`Trainer.should_stop`. Order of events after each training step:
log (every ``log_every``) → validate (every ``validate_every``; at each epoch end when None) →
save ``last/`` (every ``save_every``; at each validation when None) → stop check. When training
ends, the last step is validated (if it was not already) and ``last/`` saved.

Exact resume: ``last/`` captures weights, optimizer, schedule, step, epoch, the sampler position
(``train_data.state_dict()`` right after the step), python/numpy/torch RNG states, the model's carried
state, early-stopping and best-metric state and the bad-step counter. Validation runs under
``torch.no_grad()`` and ``model.eval()`` with every RNG saved and restored around it, so it does not
perturb training. A final validation that only happens because training stopped (max_steps,
max_minutes) updates ``best/`` but feeds neither the plateau schedule nor early stopping, so a run
stopped at step K and resumed follows the uninterrupted trajectory bitwise (CPU, fixed threads).

AMP (:func:`seqlab.training.device.amp_dtype`): ``bf16`` autocast on CUDA or the CPU, ``fp16`` with a
GradScaler on CUDA, ``auto``; the log names the precision that ran. With fp16, overflowing gradients
are the GradScaler's business (skipped, the scale lowered), not bad steps; non-finite losses are.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from seqlab.config import TrainingConfig
from seqlab.errors import CheckpointError, TrainingError, TrainingStopped
from seqlab.rundir.names import BEST, LAST, MODEL_FILE, STATE_FILE
from seqlab.rundir.safetensors_io import save_model_weights
from seqlab.training.checkpoint import checkpoint_exists, load_checkpoint, save_checkpoint
from seqlab.training.device import amp_dtype, autocast_context, resolve_device
from seqlab.training.distributed import any_rank, broadcast_int, current_dist_info, wrap_for_training
from seqlab.training.evaluate import evaluate
from seqlab.training.guard import DivergenceGuard, kept_checkpoints, weight_problem
from seqlab.training.metrics_log import MetricsLog
from seqlab.training.optim import build_optimizer, build_scheduler
from seqlab.training.rng import preserved_rng, restore_rng, seed_everything
from seqlab.training.state import (
    EarlyStopping,
    LogWindow,
    TrainState,
    batch_target_tokens,
    finite_or_none,
    is_better,
)

logger = logging.getLogger(__name__)

# what state.json must hold to resume (the rest of TrainState has defaults)
RESUME_KEYS = ("step", "epoch", "schedule", "early_stopping")
STOP_REASONS = (None, "early_stopping", "max_steps", "max_minutes", "max_target_tokens")


class Trainer:
    """Trains ``model`` on ``train_data``, validating on ``valid_data``, writing into ``run_dir``.

    ``train_data``: ``set_epoch(e)``, ``__iter__`` (resumes after ``load_state_dict``), ``__len__``,
    ``state_dict()``, ``load_state_dict(d)``; batches have ``.to(device)`` and ``.num_tokens``.
    ``valid_data``: re-iterable. ``total_steps``: the planned number of steps (for the schedule
    and the progress bar); default ``max_steps`` or ``max_epochs * len(train_data)``.
    ``extra_validation``: an optional callable ``(model) -> dict[str, float]`` whose metrics join
    each validation (e.g. BLEU from decoding the validation set); it runs after the loss pass, with
    every RNG preserved. A model with ``set_training_progress(step)`` is told the step before each
    training step (e.g. a scheduled-sampling ratio).
    Under torchrun (an initialised process group) the model is wrapped in DDP and only rank 0
    writes files.
    """

    def __init__(
        self,
        model: nn.Module,
        cfg: TrainingConfig,
        train_data: Any,
        valid_data: Any,
        run_dir: Path,
        device: str | torch.device | None = None,
        total_steps: int | None = None,
        extra_validation: Any = None,
    ) -> None:
        self.cfg = cfg
        self.extra_validation = extra_validation
        self.run_dir = Path(run_dir)
        self.dist = current_dist_info()
        self.device = resolve_device(device or cfg.device, self.dist.local_rank)
        self.model = model.to(self.device)
        self.train_data, self.valid_data = train_data, valid_data
        self.loss_module = wrap_for_training(self.model, self.dist, self.device)
        self.optimizer = build_optimizer(self.model.parameters(), cfg.optimizer)
        self.total_steps = total_steps or self._planned_steps()
        self.schedule = build_scheduler(self.optimizer, cfg.schedule, self.total_steps)
        self.amp_dtype = amp_dtype(cfg.amp, self.device)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.state = TrainState()
        self.early_stopping = EarlyStopping(cfg.early_stopping_patience, cfg.metric_mode)
        self.divergence = DivergenceGuard(cfg.divergence_patience, cfg.divergence_factor)
        self.metrics_log: MetricsLog | None = None
        self._sampler_state: dict[str, Any] | None = None
        self._in_epoch = False
        self._last_save_step: int | None = None
        self._window = LogWindow()
        self._bar: tqdm | None = None
        self._t0 = time.monotonic()

    # -- setup --------------------------------------------------------------------------------

    def _planned_steps(self) -> int:
        try:
            per_epoch = self.cfg.max_epochs * len(self.train_data)
        except TypeError:
            per_epoch = None
        candidates = [n for n in (self.cfg.max_steps, per_epoch) if n]
        return max(min(candidates), 1) if candidates else 1

    def _autocast(self) -> AbstractContextManager:
        return autocast_context(self.device, self.amp_dtype)

    def _start(self, resume: bool, verify: bool = True) -> None:
        """Check the run directory, then seed a fresh run or load ``last/`` to resume one."""
        if self.cfg.threads:
            torch.set_num_threads(self.cfg.threads)
        last = self.run_dir / LAST
        if resume and not checkpoint_exists(last):
            raise CheckpointError(
                f"{last}: no checkpoint to resume from; drop --resume to start a new run in {self.run_dir}"
            )
        if not resume and checkpoint_exists(last):
            raise CheckpointError(
                f"{self.run_dir} already holds a checkpoint ({last}); pass --resume to continue it, "
                "or choose a new --run-dir (seqlab does not overwrite runs)"
            )
        if self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self.metrics_log = MetricsLog(self.run_dir, self.dist.is_main, self.cfg.tensorboard)
        if resume:
            self._load(last, verify)
        else:
            self.metrics_log.truncate(0)
            seed_everything(self.cfg.seed + self.dist.rank)
            self._measure_start_loss()
        self._t0 = time.monotonic() - self.state.elapsed_s
        self._last_save_step = self.state.step if resume else None
        self._window = LogWindow()
        self.model.train()
        self._bar = tqdm(
            total=self.total_steps,
            initial=min(self.state.step, self.total_steps),
            disable=not (self.cfg.progress and self.dist.is_main),
            unit="step",
            dynamic_ncols=True,
        )

    def _measure_start_loss(self) -> None:
        """The validation loss before training: the divergence guard's reference (skipped when it is off)."""
        if self.cfg.divergence_patience is None:
            return
        loss = float(evaluate(self.model, self.valid_data, self.device, self._autocast, self.dist)["loss"])
        self.divergence.start_loss = loss if math.isfinite(loss) else None
        logger.info("step 0 valid loss=%.4g (the divergence guard's reference)", loss)

    def _load(self, last: Path, verify: bool = True) -> None:
        ckpt = load_checkpoint(last, self.device, verify=verify)
        ckpt.load_model(self.model)
        ckpt.load_optimizer(self.optimizer)
        data = ckpt.state
        source = ckpt.path / STATE_FILE
        missing = [key for key in RESUME_KEYS if key not in data]
        if missing:
            raise CheckpointError(f"{source}: missing {', '.join(map(repr, missing))}; cannot resume from it")
        for key, part in (("schedule", self.schedule), ("early_stopping", self.early_stopping)):
            try:
                part.load_state_dict(data[key])
            except (KeyError, TypeError, ValueError) as exc:
                raise CheckpointError(f"{source}: {key!r} is incomplete or invalid ({exc!r})") from None
        if data.get("divergence") is not None:  # absent from checkpoints saved before the guard existed
            try:
                self.divergence.load_state_dict(data["divergence"])
            except (KeyError, TypeError, ValueError) as exc:
                raise CheckpointError(f"{source}: 'divergence' is incomplete or invalid ({exc!r})") from None
        self.state = TrainState.from_dict(data)
        self._sampler_state = data.get("sampler")
        if self.scaler is not None and data.get("grad_scaler"):
            self.scaler.load_state_dict(data["grad_scaler"])
        if ckpt.carry and hasattr(self.model, "load_carry_state"):
            self.model.load_carry_state(ckpt.carry)
        assert self.metrics_log is not None
        self.metrics_log.truncate(self.state.metrics_lines)
        if ckpt.rng_json is not None:
            restore_rng(ckpt.rng_json, ckpt.rng_tensors)
        if self.dist.rank > 0:  # only rank 0's generators are saved; give the others their own
            seed_everything(self.cfg.seed + 1_000_003 * self.dist.rank + self.state.step)
        logger.info("resumed %s at step %d (epoch %d)", last, self.state.step, self.state.epoch)

    # -- the loop -----------------------------------------------------------------------------

    def fit(self, resume: bool = False, verify: bool = True) -> dict[str, Any]:
        """Train until a budget, early stopping or ``max_epochs``; return final and best metrics.

        ``resume=True`` continues from ``run_dir/last`` (CheckpointError if there is none), checked
        against its manifest unless ``verify`` is False; ``resume=False`` refuses a run directory that
        already holds a checkpoint.
        """
        self._start(resume, verify)
        try:
            reason = (self.should_stop() if resume else None) or self._train_epochs()
            self._finish()
        finally:
            if self._bar is not None:
                self._bar.close()
            if self.metrics_log is not None:
                self.metrics_log.close()
        return self._summary(reason)

    def _train_epochs(self) -> str:
        while self.state.epoch < self.cfg.max_epochs:
            reason = self._run_epoch()
            if reason:
                return reason
        return "max_epochs"

    def _run_epoch(self) -> str | None:
        self.train_data.set_epoch(self.state.epoch)
        if self._sampler_state is not None:
            self.train_data.load_state_dict(self._sampler_state)
            self._sampler_state = None
        self._in_epoch = True
        for batch in self.train_data:
            self.train_step(batch)
            reason = self._after_step()
            if reason:
                return reason
        self._in_epoch = False
        self.state.epoch += 1
        return self._after_epoch()

    def _after_step(self) -> str | None:
        step = self.state.step
        if step % self.cfg.log_every == 0:
            self._log_train()
        validated = bool(self.cfg.validate_every) and step % self.cfg.validate_every == 0
        if validated:
            self._validate_and_track(scheduled=True)
        if (step % self.cfg.save_every == 0) if self.cfg.save_every else validated:
            self.save()
        return self.should_stop()

    def _after_epoch(self) -> str | None:
        if self.cfg.validate_every is None:
            self._validate_and_track(scheduled=True)
            if self.cfg.save_every is None:
                self.save()
        return self.should_stop()

    def _finish(self) -> None:
        if self.state.last_valid_step != self.state.step:
            self._validate_and_track(scheduled=False)
        if self._last_save_step != self.state.step:
            self.save()
        if self.state.best_step is None and self.dist.is_main:
            logger.warning(
                "no validation improved %s (the last: %s), so there is no best/ and no model.safetensors; "
                "loading this run uses %s (step %d)",
                self.cfg.metric,
                self.state.last_valid.get(self.cfg.metric),
                self.run_dir / LAST,
                self.state.step,
            )

    def should_stop(self) -> str | None:
        """Why training should stop now (rank 0's answer, shared with every rank), or None."""
        reason = None
        if self.early_stopping.stopped:
            reason = "early_stopping"
        elif self.cfg.max_steps is not None and self.state.step >= self.cfg.max_steps:
            reason = "max_steps"
        elif self.cfg.max_minutes is not None and self._elapsed() >= 60 * self.cfg.max_minutes:
            reason = "max_minutes"
        elif (
            self.cfg.max_target_tokens is not None and self.state.target_tokens >= self.cfg.max_target_tokens
        ):
            reason = "max_target_tokens"
        return STOP_REASONS[broadcast_int(STOP_REASONS.index(reason), self.dist)]

    def _elapsed(self) -> float:
        return time.monotonic() - self._t0

    # -- one step -----------------------------------------------------------------------------

    def train_step(self, batch: Any) -> bool:
        """Forward, backward and (unless the loss or gradients are non-finite) one update.

        Returns whether the optimizer stepped. Raises TrainingError after ``max_bad_steps``
        consecutive skipped steps.
        """
        batch = batch.to(self.device)
        if hasattr(self.model, "set_training_progress"):
            self.model.set_training_progress(self.state.step)
        with self._autocast():
            loss, stats = self.loss_module(batch)
        loss_value = float(loss.detach())
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
        updated = self._apply_update(math.isfinite(loss_value))
        self.state.step += 1
        targets = batch_target_tokens(batch)
        self.state.target_tokens += targets * self.dist.world_size
        self._window.add(loss_value, stats, int(batch.num_tokens), updated, targets)
        self._count_bad_steps(updated)
        self._update_bar(loss_value)
        return updated

    def _grad_norm(self) -> float:
        params = [p for p in self.model.parameters() if p.grad is not None]
        if not params:
            return 0.0
        if self.cfg.clip_grad_norm is not None:
            return float(torch.nn.utils.clip_grad_norm_(params, self.cfg.clip_grad_norm))
        grads = [p.grad for p in params]
        if hasattr(torch.nn.utils, "get_total_norm"):  # torch >= 2.6
            return float(torch.nn.utils.get_total_norm(grads))
        return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))

    def _apply_update(self, loss_finite: bool) -> bool:
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        norm = self._grad_norm()
        bad = not loss_finite or (self.scaler is None and not math.isfinite(norm))
        if any_rank(bad, self.dist):
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.update()
            return False
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.schedule.after_update()
        return True

    def _count_bad_steps(self, updated: bool) -> None:
        if updated:
            self.state.bad_steps = 0
            return
        self.state.bad_steps += 1
        self.state.skipped_steps += 1
        logger.warning("step %d: non-finite loss or gradients, update skipped", self.state.step)
        if self.state.bad_steps >= self.cfg.max_bad_steps:
            raise self._stopped(
                f"non-finite loss at step {self.state.step}: {self.state.bad_steps} bad steps in a row "
                f"(training.max_bad_steps = {self.cfg.max_bad_steps})",
                "set training.clip_grad_norm, try training.amp: bf16 or none instead of fp16, or check the "
                "data for degenerate batches",
            )

    def _stopped(self, what: str, remedies: str) -> TrainingStopped:
        """A guard's error: ``what`` fired, lowering the learning rate, warmup or ``remedies``, and the
        checkpoints the run keeps (only those that exist)."""
        best = None if self.state.best_step is None else (self.state.best_step, self.state.best_metric)
        last_step = self._last_save_step if checkpoint_exists(self.run_dir / LAST) else None
        kept = kept_checkpoints(self.run_dir, self.cfg.metric, best, last_step)
        return TrainingStopped(
            f"{what}; lower training.optimizer.lr (now {self.cfg.optimizer.lr:g}), add warmup "
            f"(training.schedule.warmup_steps), {remedies}. {kept}"
        )

    def _check_weights(self) -> None:
        """TrainingStopped when a weight is non-finite or past ``training.max_abs_weight`` (every rank
        checks: DDP keeps the weights equal, so every rank stops together)."""
        problem = weight_problem(self.model, self.cfg.max_abs_weight)
        if problem is not None:
            raise self._stopped(
                f"training stopped at step {self.state.step}: {problem}",
                "or set training.clip_grad_norm",
            )

    def _update_bar(self, loss_value: float) -> None:
        if self._bar is None or self._bar.disable:
            return
        self._bar.update(1)
        tokens_per_s = self._window.tokens_per_s() * self.dist.world_size
        self._bar.set_postfix(
            loss=f"{loss_value:.3f}", lr=f"{self.schedule.lr:.2e}", tok_s=f"{tokens_per_s:.0f}", refresh=False
        )

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> dict[str, float]:
        """Metrics over all of ``valid_data`` (summed across ranks), without touching training state."""
        metrics = evaluate(self.model, self.valid_data, self.device, self._autocast, self.dist)
        if self.extra_validation is not None:
            with preserved_rng():
                metrics.update(self.extra_validation(self.model))
        return metrics

    def _metric(self, metrics: dict[str, float]) -> float:
        if self.cfg.metric not in metrics:
            raise TrainingError(
                f"training.metric = {self.cfg.metric!r} is not a validation metric of this model; "
                f"choose one of {', '.join(sorted(metrics))}"
            )
        return float(metrics[self.cfg.metric])

    def _validate_and_track(self, scheduled: bool) -> dict[str, float]:
        """Validate; check the weights and (if scheduled) the divergence guard; update best/ when improved;
        feed schedule and early stopping if scheduled. A guard that fires raises after the log line."""
        metrics = self.validate()
        value = self._metric(metrics)
        self._check_weights()
        loss = float(metrics.get("loss", math.nan))
        if scheduled and self.divergence.update(loss):
            self._log({"split": "valid", **metrics, "best": False})
            raise self._stopped(
                f"training stopped at step {self.state.step}: {self.divergence.describe(loss)}",
                "or set training.divergence_patience: null to turn this guard off",
            )
        improved = is_better(value, self.state.best_metric, self.cfg.metric_mode)
        if improved:
            self.state.best_metric, self.state.best_step = value, self.state.step
            self._save_best(metrics)
        if scheduled:
            self.schedule.after_validation(value, self.cfg.metric_mode)
            self.early_stopping.update(value)
        self.state.last_valid_step, self.state.last_valid = self.state.step, metrics
        self._log({"split": "valid", **metrics, "best": improved})
        logger.info("step %d valid %s", self.state.step, " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        return metrics

    # -- files --------------------------------------------------------------------------------

    def _carry(self) -> dict[str, torch.Tensor] | None:
        return self.model.carry_state() if hasattr(self.model, "carry_state") else None

    def save(self) -> None:
        """Write ``run_dir/last`` atomically (rank 0 only; refuses weights a guard rejects)."""
        self._check_weights()
        self._last_save_step = self.state.step
        if not self.dist.is_main:
            return
        assert self.metrics_log is not None
        self.state.elapsed_s = self._elapsed()
        self.state.metrics_lines = self.metrics_log.lines
        state = {
            **self.state.to_dict(),
            "sampler": self.train_data.state_dict() if self._in_epoch else None,
            "schedule": self.schedule.state_dict(),
            "early_stopping": self.early_stopping.state_dict(),
            "divergence": self.divergence.state_dict(),
            "grad_scaler": self.scaler.state_dict() if self.scaler is not None else None,
        }
        save_checkpoint(self.run_dir / LAST, self.model, state, self.optimizer, self._carry())

    def _save_best(self, metrics: dict[str, float]) -> None:
        if not self.dist.is_main:
            return
        state = {
            "step": self.state.step,
            "epoch": self.state.epoch,
            "metric": self.cfg.metric,
            "metrics": finite_or_none(metrics),
        }
        save_checkpoint(self.run_dir / BEST, self.model, state, rng=False)
        save_model_weights(self.run_dir / MODEL_FILE, self.model)

    def _log(self, record: dict[str, Any]) -> None:
        assert self.metrics_log is not None
        base = {"split": record.pop("split"), "step": self.state.step, "epoch": self.state.epoch}
        extra = {"lr": self.schedule.lr, "elapsed_s": self._elapsed()}
        self.metrics_log.log({**base, **record, **extra})

    def _log_train(self) -> None:
        window = self._window
        record: dict[str, Any] = {"split": "train", "loss": window.mean_loss()}
        if window.updates and window.stats:
            record.update(type(self.model).summarize(window.stats))
        record["tokens_per_s"] = window.tokens_per_s() * self.dist.world_size
        record["target_tokens_per_s"] = window.target_tokens_per_s() * self.dist.world_size
        record["skipped_steps"] = window.skipped
        self._log(record)
        self._window = LogWindow()

    def _summary(self, reason: str | None) -> dict[str, Any]:
        return {
            "stop_reason": reason,
            "step": self.state.step,
            "epoch": self.state.epoch,
            "target_tokens": self.state.target_tokens,
            "skipped_steps": self.state.skipped_steps,
            "elapsed_s": self._elapsed(),
            "valid": dict(self.state.last_valid),
            "best": {"step": self.state.best_step, self.cfg.metric: self.state.best_metric},
        }
