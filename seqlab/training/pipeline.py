"""From a validated config to a trained run directory: the glue between data, model and Trainer.

``train(cfg, run_dir, resume)`` is what ``seqlab train`` runs. It builds nothing the run directory
cannot describe: the tokenizer, vocabulary and config are written there before training starts, and
on ``--resume`` they are read back from there (never retrained), so a resumed run sees exactly the
same ids.

The task picks the data and model (plain if/elif): a language model reads one token stream in BPTT
windows, or (``data.lm_mode: lines``) each line from a fresh state in length-bucketed batches; a
classifier or tagger reads labelled examples (:mod:`seqlab.data.corpora.labelled`) in token-budget
batches (:mod:`seqlab.data.batching.labelled`); a Seq2Seq model reads pairs
(:mod:`seqlab.data.corpora.seq2seq`) in length-bucketed batches (:mod:`seqlab.data.batching.seq2seq`) and,
when ``training.metric`` needs decoding (BLEU, chrF, WER, PER, ROUGE-L, exact match), hands the
Trainer a validation hook that decodes the validation set greedily. The one Trainer trains them all.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import Counter
from pathlib import Path
from typing import Any

import torch

from seqlab.config import ExperimentConfig
from seqlab.data.batching.bptt import BPTTBatcher
from seqlab.data.batching.labelled import ExampleLoader, collate_classification, collate_tagging
from seqlab.data.corpora.labelled import Corpus, load_corpus
from seqlab.data.corpora.lm import LMCorpus, load_lm_corpus, reload_lm_corpus
from seqlab.data.corpora.lm_lines import LineLoader, encode_line_examples, line_loader
from seqlab.data.corpora.lm_mixed import MixedBatcher
from seqlab.errors import ConfigError
from seqlab.models.factory import build_model
from seqlab.rundir.manifest import write_manifest
from seqlab.text.vectors import load_pretrained_vectors
from seqlab.training.distributed import DistInfo, cleanup, init_distributed
from seqlab.training.rng import seed_everything
from seqlab.training.run_dir import RUN_FILES, start_run_dir
from seqlab.training.trainer import Trainer
from seqlab.training.warm_start import warm_start

logger = logging.getLogger(__name__)


def with_absolute_paths(cfg: ExperimentConfig) -> ExperimentConfig:
    """``data.train`` / ``data.valid`` / the model's vectors and ``init_*from`` runs made
    absolute (relative paths are read from the current directory), so the run directory's
    config.yaml means the same files from anywhere."""
    changes = {
        key: str(Path(value).resolve())
        for key in ("train", "valid", "train_source", "train_target", "valid_source", "valid_target")
        if (value := getattr(cfg.data, key)) is not None
    }
    if changes:
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, **changes))
    keys = ("pretrained_vectors", "init_from", "source_vectors", "target_vectors")
    for key in (*keys, "init_encoder_from", "init_decoder_from"):
        if (value := getattr(cfg.model, key)) is not None:
            cfg = dataclasses.replace(
                cfg, model=dataclasses.replace(cfg.model, **{key: str(Path(value).resolve())})
            )
    return cfg


def prepare_corpus(cfg: ExperimentConfig, run_dir: Path, resume: bool, dist: DistInfo) -> LMCorpus:
    """Tokenizer, vocabulary and id tensors; fitted and saved on a fresh run, reloaded on resume."""
    if resume:
        return reload_lm_corpus(cfg.data, run_dir)
    if dist.world_size > 1:
        # rank 0 fits the tokenizer and vocabulary; the others wait and read what it wrote
        if dist.is_main:
            corpus = load_lm_corpus(cfg.data, run_dir)
        torch.distributed.barrier()
        if not dist.is_main:
            corpus = reload_lm_corpus(cfg.data, run_dir)
        return corpus
    return load_lm_corpus(cfg.data, run_dir)


def build_batchers(
    cfg: ExperimentConfig, corpus: LMCorpus, dist: DistInfo
) -> tuple[BPTTBatcher | MixedBatcher, BPTTBatcher]:
    """Training stream (variable BPTT when configured; fresh lines mixed in with
    ``data.fresh_line_share``) and the validation stream, sharded by rank."""
    data = cfg.data
    for name in ("batch_size", "eval_batch_size"):
        if getattr(data, name) % dist.world_size:
            raise ConfigError(
                f"data.{name} = {getattr(data, name)}: must be divisible by the number of processes "
                f"({dist.world_size}); it is the global batch, split across ranks"
            )
    train = BPTTBatcher(
        corpus.train,
        data.batch_size,
        data.bptt,
        variable=data.variable_bptt,
        seed=cfg.training.seed,
        rank=dist.rank,
        world_size=dist.world_size,
    )
    valid = BPTTBatcher(
        corpus.valid, data.eval_batch_size, data.bptt, rank=dist.rank, world_size=dist.world_size
    )
    if data.fresh_line_share > 0:
        assert corpus.train_lines is not None  # kept when fresh_line_share > 0
        lines = LineLoader(
            encode_line_examples(corpus.train_lines),
            corpus.vocab.eos_id,
            corpus.vocab.pad_id,
            data.batch_size * data.bptt,
            seed=cfg.training.seed,
            rank=dist.rank,
            world_size=dist.world_size,
        )
        return MixedBatcher(train, lines, data.fresh_line_share, seed=cfg.training.seed), valid
    return train, valid


def build_line_loaders(
    cfg: ExperimentConfig, corpus: LMCorpus, dist: DistInfo
) -> tuple[LineLoader, LineLoader]:
    """``lm_mode: lines``: training lines (shuffled, length-bucketed) and validation lines (sorted),
    sharded by rank; every line starts from a fresh state."""
    assert corpus.train_lines is not None and corpus.valid_lines is not None  # lm_mode lines keeps them
    shard = {"seed": cfg.training.seed, "rank": dist.rank, "world_size": dist.world_size}
    train = line_loader(
        cfg.data, corpus.vocab, corpus.train_lines, shuffle=True, source="training text", **shard
    )
    valid = line_loader(
        cfg.data, corpus.vocab, corpus.valid_lines, shuffle=False, source="validation text", **shard
    )
    return train, valid


def prepare_labelled_corpus(cfg: ExperimentConfig, run_dir: Path, resume: bool, dist: DistInfo) -> Corpus:
    """Examples of a classifier or tagger; the pipeline fitted and saved on a fresh run (by rank 0),
    reloaded on resume and by the other ranks."""
    if resume:
        return load_corpus(cfg, run_dir, fit=False)
    if dist.world_size > 1:
        if dist.is_main:
            corpus = load_corpus(cfg, run_dir, fit=True)
        torch.distributed.barrier()
        if not dist.is_main:
            corpus = load_corpus(cfg, run_dir, fit=False)
        return corpus
    return load_corpus(cfg, run_dir, fit=True)


def balanced_class_weights(labels: list[int], num_classes: int) -> list[float]:
    """``n / (C * count(c))`` for each class c (scikit-learn's 'balanced'); 0 for an absent class."""
    counts = Counter(labels)
    return [len(labels) / (num_classes * counts[c]) if counts[c] else 0.0 for c in range(num_classes)]


def _load_vectors(cfg: ExperimentConfig, model: torch.nn.Module, tokens: list[str]) -> None:
    """Initialise ``model.embedding`` from ``model.pretrained_vectors`` and report the coverage."""
    path = cfg.model.pretrained_vectors
    report = load_pretrained_vectors(model.embedding, path, tokens, freeze=cfg.model.freeze_vectors)
    logger.info(
        "pretrained vectors %s: %d of %d vocabulary tokens found (coverage %.1f%%)%s%s",
        path,
        report["found"],
        report["total"],
        100 * report["coverage"],
        "; frozen" if cfg.model.freeze_vectors else "",
        f"; missing e.g. {', '.join(report['missing_examples'][:5])}" if report["missing_examples"] else "",
    )


def build_language_model_run(
    cfg: ExperimentConfig, run_dir: Path, resume: bool, dist: DistInfo
) -> tuple[torch.nn.Module, BPTTBatcher | LineLoader, BPTTBatcher | LineLoader]:
    """Model, training and validation data of a language model (streams or lines, ``data.lm_mode``)."""
    corpus = prepare_corpus(cfg, run_dir, resume, dist)
    if cfg.data.lm_mode == "lines":
        train_data, valid_data = build_line_loaders(cfg, corpus, dist)
    else:
        train_data, valid_data = build_batchers(cfg, corpus, dist)
    model = build_model(cfg, len(corpus.vocab))
    if cfg.model.pretrained_vectors is not None:
        _load_vectors(cfg, model, corpus.vocab.itos)
    return model, train_data, valid_data


def build_labelled_run(
    cfg: ExperimentConfig, run_dir: Path, resume: bool, dist: DistInfo
) -> tuple[torch.nn.Module, ExampleLoader, ExampleLoader]:
    """Model, training and validation loaders of a classifier or tagger.

    Validation is not sharded: every rank evaluates all of it, and the summed statistics give the
    same ratios as one process.
    """
    corpus = prepare_labelled_corpus(cfg, run_dir, resume, dist)
    collate = collate_classification if cfg.task == "classifier" else collate_tagging
    budget = cfg.data.max_tokens
    train_data = ExampleLoader(
        corpus.train, collate, budget, True, cfg.training.seed, dist.rank, dist.world_size
    )
    valid_data = ExampleLoader(corpus.valid, collate, budget, shuffle=False)
    pipeline = corpus.pipeline
    weights = None
    if cfg.task == "classifier" and cfg.training.class_weights == "balanced":
        weights = balanced_class_weights([e.label for e in corpus.train], len(pipeline.labels))
        logger.info(
            "class weights: %s", ", ".join(f"{name}={w:.3g}" for name, w in zip(pipeline.labels, weights))
        )
    chars = len(pipeline.chars) if pipeline.chars is not None else None
    model = build_model(cfg, len(pipeline.vocab), len(pipeline.labels), chars, weights)
    if cfg.model.pretrained_vectors is not None:
        _load_vectors(cfg, model, pipeline.vocab.itos)
    if cfg.model.init_from is not None and not resume:
        chars = list(pipeline.chars.itos) if pipeline.chars is not None else None
        report = warm_start(model, cfg.model.init_from, pipeline.vocab.itos, list(pipeline.labels), chars)
        logger.info("%s", report.summary())
    logger.info(
        "%s: %d training and %d validation examples, %d labels, %d tokens in the vocabulary",
        cfg.task,
        len(corpus.train),
        len(corpus.valid),
        len(pipeline.labels),
        len(pipeline.vocab),
    )
    return model, train_data, valid_data


def prepare_seq2seq_corpus(cfg: ExperimentConfig, run_dir: Path, resume: bool, dist: DistInfo):  # noqa: ANN201
    """Pairs of a Seq2Seq run; tokenizers and vocabularies fitted and saved by rank 0 on a fresh
    run, reloaded on resume and by the other ranks."""
    from seqlab.data.corpora.seq2seq import load_seq2seq_corpus

    if resume:
        return load_seq2seq_corpus(cfg, run_dir, fit=False)
    if dist.world_size > 1:
        if dist.is_main:
            corpus = load_seq2seq_corpus(cfg, run_dir, fit=True)
        torch.distributed.barrier()
        if not dist.is_main:
            corpus = load_seq2seq_corpus(cfg, run_dir, fit=False)
        return corpus
    return load_seq2seq_corpus(cfg, run_dir, fit=True)


def validation_scores(metric: str) -> tuple[str, ...]:
    """The decoded scores logged with ``metric``: its family (G2P error rates, MT scores, ROUGE, the
    dialogue scores: BLEU-1/2, distinct-1/2 and the frequent-output share)."""
    if metric in ("wer", "per", "exact_match"):
        return ("wer", "per", "exact_match")
    if metric in ("bleu", "chrf"):
        return ("bleu", "chrf")
    if metric in ("bleu1", "bleu2"):
        return ("bleu1", "bleu2", "distinct1", "distinct2", "frequent_share")
    return (metric,)


def build_seq2seq_run(cfg: ExperimentConfig, run_dir: Path, resume: bool, dist: DistInfo):  # noqa: ANN201
    """Model, training and validation loaders of a Seq2Seq run, and the decoding validation hook
    (None when ``training.metric`` needs no decoding). Validation is not sharded."""
    from seqlab.config import DECODED_METRICS
    from seqlab.data.batching.seq2seq import Seq2SeqLoader
    from seqlab.training.seq2seq_pretrain import pretrain_seq2seq
    from seqlab.training.seq2seq_validation import DecodingValidator

    corpus = prepare_seq2seq_corpus(cfg, run_dir, resume, dist)
    budget = cfg.data.max_tokens
    train_data = Seq2SeqLoader(corpus.train, budget, True, cfg.training.seed, dist.rank, dist.world_size)
    valid_data = Seq2SeqLoader(corpus.valid, budget, shuffle=False)
    pipeline = corpus.pipeline
    model = build_model(cfg, len(pipeline.source_vocab), target_vocab_size=len(pipeline.target_vocab))
    pretrain_seq2seq(cfg, model, pipeline.source_vocab.itos, pipeline.target_vocab.itos, resume)
    hook = None
    if cfg.training.metric in DECODED_METRICS:
        hook = DecodingValidator(
            corpus.valid_pairs, pipeline, cfg, metrics=validation_scores(cfg.training.metric)
        )
    logger.info(
        "seq2seq: %d training and %d validation pairs; vocabularies: source %d, target %d tokens; "
        "%d parameters",
        len(corpus.train),
        len(corpus.valid),
        len(pipeline.source_vocab),
        len(pipeline.target_vocab),
        sum(p.numel() for p in model.parameters()),
    )
    return model, train_data, valid_data, hook


def planned_steps(cfg: ExperimentConfig, train_data: Any) -> int:
    """The steps a schedule plans for: ``training.max_steps``, else the epochs' batches, or fewer when
    ``training.max_target_tokens`` ends training sooner (epochs it buys x batches an epoch)."""
    training = cfg.training
    if training.max_steps:
        return training.max_steps
    steps = training.max_epochs * len(train_data)
    per_epoch = getattr(train_data, "target_tokens_per_epoch", None)
    if training.max_target_tokens and per_epoch:
        steps = min(steps, math.ceil(training.max_target_tokens / per_epoch * len(train_data)))
    return max(steps, 1)


def train(
    cfg: ExperimentConfig,
    run_dir: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    verify: bool = True,
) -> dict[str, float]:
    """Train ``cfg`` into ``run_dir``; with ``resume`` continue exactly from ``run_dir/last``.

    A fresh run refuses a directory that already holds a run (a config.yaml or weights) unless
    ``overwrite``, which removes the earlier run's files first. A resume checks the run's files
    against their manifests (:mod:`seqlab.rundir.manifest`) before anything is read, unless ``verify`` is
    False. Returns the Trainer's final metrics (best validation metric and friends).
    """
    run_dir = Path(run_dir)
    cfg = with_absolute_paths(cfg)
    if cfg.task == "seq2seq" and not resume:
        from seqlab.training.seq2seq_pretrain import check_pretrain_sources

        check_pretrain_sources(cfg)  # before the run directory is touched
    dist = init_distributed()
    try:
        start_run_dir(cfg, run_dir, resume, overwrite, verify, dist)
        if cfg.training.threads is not None:
            torch.set_num_threads(cfg.training.threads)
        seed_everything(cfg.training.seed)  # the model's initial weights come from this seed
        hook = None
        if cfg.task == "language_model":
            model, train_data, valid_data = build_language_model_run(cfg, run_dir, resume, dist)
        elif cfg.task in ("classifier", "tagger"):
            model, train_data, valid_data = build_labelled_run(cfg, run_dir, resume, dist)
        elif cfg.task == "seq2seq":
            model, train_data, valid_data, hook = build_seq2seq_run(cfg, run_dir, resume, dist)
        else:
            raise ConfigError(f"task = {cfg.task!r}: nothing can train it")
        if dist.is_main and not resume:
            write_manifest(run_dir, RUN_FILES)  # the config and the pipeline files just written
        total_steps = planned_steps(cfg, train_data)
        trainer = Trainer(
            model,
            cfg.training,
            train_data,
            valid_data,
            run_dir,
            total_steps=total_steps,
            extra_validation=hook,
        )
        return trainer.fit(resume=resume, verify=verify)
    finally:
        cleanup()
