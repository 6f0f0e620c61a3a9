"""Every path that decodes is checked against the path that trained it.

On a trained tiny model of each decoder behind the decoding protocol (a Seq2Seq model; the
``lm_sep`` language model behind :class:`PromptedLanguageModel`), the token accuracy of the
reference targets fed step by step through ``encode`` / ``start_state`` / ``decode_step``, from the
start state every search uses, equals the accuracy the Trainer's own validation reports on the same
validation batches, within half a point. Beam size 1 equals greedy for both. The same holds for a
Seq2Seq model with copy attention (``configs/tiny_copy.yaml``), whose steps score the extended
vocabulary of each source.

A language model trained as one stream (its state carried from line to line: ``lm_sep`` before line
mode) fails the check: its validation ran from carried states, its decoding from zeros.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tiny_g2p_spec import tiny_g2p_spec

import seqlab
from seqlab.compare.lm_sep import LMSepTranslator
from seqlab.compare.spec import contender_config
from seqlab.compare.spec_file import load_spec
from seqlab.compare.worker import prepare_lm
from seqlab.config import load_config
from seqlab.decoding.beam import beam_search
from seqlab.decoding.search import greedy_search
from seqlab.decoding.step import length_limits
from seqlab.decoding.teacher_forcing import teacher_forced_hits
from seqlab.text.padding import pad_batch
from seqlab.training.distributed import DistInfo
from seqlab.training.evaluate import evaluate
from seqlab.training.pipeline import build_language_model_run, build_seq2seq_run, train

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TOLERANCE = 0.005  # half a point


def stepwise_accuracy(model, batches) -> float:
    """Teacher-forced accuracy through the protocol over (src, src_lengths, targets[, src_copy]) batches."""
    hits = total = 0
    for src, lengths, targets, *src_copy in batches:
        h, n = teacher_forced_hits(model, src, lengths, targets, *src_copy)
        hits, total = hits + h, total + n
    return hits / total


# -- Seq2Seq ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seq2seq_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("s2s") / "run"
    overrides = [
        f"data.train={FIXTURES / 'tiny_s2s_train.tsv'}",
        f"data.valid={FIXTURES / 'tiny_s2s_valid.tsv'}",
        "training.max_epochs=3",
        "training.metric=loss",
        "training.metric_mode=min",
    ]
    cfg = load_config(ROOT / "configs" / "tiny_seq2seq.yaml", overrides)
    train(cfg, run_dir)
    predictor = seqlab.load(run_dir)
    _, _, valid_data, _ = build_seq2seq_run(cfg, run_dir, resume=True, dist=DistInfo())
    return predictor, valid_data


def seq2seq_batches(valid_data):
    for batch in valid_data:
        targets = [row[: int(n) - 1].tolist() for row, n in zip(batch.tgt_out, batch.tgt_lengths)]
        yield batch.src, batch.src_lengths, targets


def test_seq2seq_stepwise_accuracy_equals_validation(seq2seq_run):
    predictor, valid_data = seq2seq_run
    trainer_view = evaluate(predictor.model, valid_data, predictor.device)["accuracy"]
    decoding_view = stepwise_accuracy(predictor.model, seq2seq_batches(valid_data))
    assert 0.05 < trainer_view < 1.0  # a trained model, not a degenerate one
    assert abs(decoding_view - trainer_view) <= TOLERANCE, (decoding_view, trainer_view)


def test_seq2seq_beam_one_equals_greedy(seq2seq_run):
    predictor, valid_data = seq2seq_run
    batch = next(iter(valid_data))
    assert_beam_one_is_greedy(predictor.model, batch.src, batch.src_lengths)


def assert_beam_one_is_greedy(model, src, lengths, *src_copy):
    limits = dict(zip(("max_lengths", "min_lengths"), length_limits(lengths, max_length=20)))
    ids = dict(bos_id=model.bos_id, eos_id=model.eos_id)
    memory = model.encode(src, lengths, *src_copy)
    greedy = greedy_search(model, memory, model.start_state(memory), **limits, **ids)
    memory = model.encode(src, lengths, *src_copy)
    beam = beam_search(model, memory, model.start_state(memory), beam_size=1, **limits, **ids)
    assert [h.tokens for h in greedy] == [hyps[0].tokens for hyps in beam]
    assert any(h.tokens for h in greedy)
    return greedy


# -- Seq2Seq with copy attention -------------------------------------------------------------------


@pytest.fixture(scope="module")
def copy_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("copy") / "run"
    overrides = [
        f"data.train={FIXTURES / 'tiny_copy_train.tsv'}",
        f"data.valid={FIXTURES / 'tiny_copy_valid.tsv'}",
        "training.max_epochs=2",
        "training.metric=loss",
        "training.metric_mode=min",
    ]
    cfg = load_config(ROOT / "configs" / "tiny_copy.yaml", overrides)
    train(cfg, run_dir)
    predictor = seqlab.load(run_dir)
    _, _, valid_data, _ = build_seq2seq_run(cfg, run_dir, resume=True, dist=DistInfo())
    return predictor, valid_data


def copy_batches(valid_data):
    for batch in valid_data:
        targets = [row[: int(n) - 1].tolist() for row, n in zip(batch.tgt_out, batch.tgt_lengths)]
        yield batch.src, batch.src_lengths, targets, batch.src_copy


def test_copy_stepwise_accuracy_equals_validation(copy_run):
    predictor, valid_data = copy_run
    vocab_size = len(predictor.pipeline.target_vocab)
    batches = list(copy_batches(valid_data))
    assert all(b[3] is not None for b in batches)
    assert any(max(max(t) for t in b[2]) >= vocab_size for b in batches)  # targets copied from the source
    trainer_view = evaluate(predictor.model, valid_data, predictor.device)["accuracy"]
    decoding_view = stepwise_accuracy(predictor.model, batches)
    assert 0.05 < trainer_view < 1.0
    assert abs(decoding_view - trainer_view) <= TOLERANCE, (decoding_view, trainer_view)


def test_copy_beam_one_equals_greedy_over_the_extended_vocabulary(copy_run):
    predictor, valid_data = copy_run
    batch = next(iter(valid_data))
    greedy = assert_beam_one_is_greedy(predictor.model, batch.src, batch.src_lengths, batch.src_copy)
    assert any(t >= len(predictor.pipeline.target_vocab) for h in greedy for t in h.tokens)


# -- the prompted language model (lm_sep) ---------------------------------------------------------


def lm_sep_run(tmp_path: Path, lm_data: dict, loss: str = "all"):
    spec = tiny_g2p_spec(
        "tiny G2P",
        {"max_tokens": 200},
        {"embedding_size": 16, "hidden_size": 48, "num_layers": 1},
        training={"optimizer": {"name": "adam", "lr": 0.01}, "log_every": 20},
        threads=1,
        lm={"data": lm_data},
        budget={"max_steps": 150},
        contenders=[{"name": "lm", "kind": "lm_sep", "loss": loss}],
    )
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    spec = load_spec(tmp_path / "spec.yaml")
    run_dir = tmp_path / "lm"
    cfg = contender_config(spec, spec.contenders[0], run_dir)
    prepare_lm(spec, run_dir)
    train(cfg, run_dir)
    translator = LMSepTranslator(run_dir)
    _, _, valid_data = build_language_model_run(cfg, run_dir, resume=True, dist=DistInfo())
    return translator, valid_data


def lm_batches(valid_data, pad_id: int):
    """Each validation line split at ``<sep>`` into the prompt's source and the target."""
    for start in range(0, len(valid_data.examples), 16):
        lines = valid_data.examples[start : start + 16]
        src, lengths = pad_batch([line.ids[: line.target_start - 1] for line in lines], pad_id)
        yield src, lengths, [line.ids[line.target_start :] for line in lines]


@pytest.fixture(scope="module")
def lines_run(tmp_path_factory):
    return lm_sep_run(tmp_path_factory.mktemp("lm_lines"), {"max_tokens": 400})


def test_lm_sep_trains_lines_and_records_the_mode(lines_run):
    translator, _ = lines_run
    assert translator.config.data.lm_mode == "lines"
    assert translator.config.data.target_separator == "<sep>"


def test_lm_sep_stepwise_accuracy_equals_validation(lines_run):
    translator, valid_data = lines_run
    model = translator.predictor.model
    trainer_view = evaluate(model, valid_data, translator.device)["target_accuracy"]
    decoding_view = stepwise_accuracy(translator.model, lm_batches(valid_data, translator.vocab.pad_id))
    assert 0.05 < trainer_view < 1.0
    assert abs(decoding_view - trainer_view) <= TOLERANCE, (decoding_view, trainer_view)


def test_lm_sep_beam_one_equals_greedy(lines_run):
    translator, valid_data = lines_run
    src, lengths, _ = next(lm_batches(valid_data, translator.vocab.pad_id))
    assert_beam_one_is_greedy(translator.model, src, lengths)


def test_prefix_loss_scores_only_the_target(tmp_path):
    translator, valid_data = lm_sep_run(tmp_path, {"max_tokens": 400}, loss="target")
    assert translator.config.data.lm_loss == "target"
    metrics = evaluate(translator.predictor.model, valid_data, translator.device)
    # with the prompt unscored, every scored token is a target token
    assert metrics["accuracy"] == pytest.approx(metrics["target_accuracy"])
    decoding_view = stepwise_accuracy(translator.model, lm_batches(valid_data, translator.vocab.pad_id))
    assert abs(decoding_view - metrics["target_accuracy"]) <= TOLERANCE


def test_a_stream_trained_lm_sep_loads_with_a_warning_naming_its_mode(tmp_path, caplog):
    """lm_mode stream (how lm_sep trained before line mode) never started a line from the state its
    prompts start from: it still decodes, but says so and how to retrain."""
    lm_data = {"lm_mode": "stream", "batch_size": 4, "eval_batch_size": 4, "bptt": 12}
    with caplog.at_level("WARNING"):
        translator, _ = lm_sep_run(tmp_path, lm_data)
    assert translator.config.data.lm_mode == "stream"
    assert "lm_mode: stream" in caplog.text and "Retrain" in caplog.text
