"""The seq2seq parts of the config: defaults, the rules tying data, model and decoding together, all
reported at once."""

import pytest

from seqlab.config import DECODED_METRICS, ExperimentConfig, config_from_dict, load_config, save_config
from seqlab.errors import ConfigError
from seqlab.metrics.references import SCORE_NAMES
from seqlab.ranges import COVERAGE_PENALTY, DIVERSITY_STRENGTH, REPETITION_PENALTY
from seqlab.training.pipeline import validation_scores

BASE = {"task": "seq2seq", "data": {"format": "tsv", "train": "pairs.tsv", "valid_fraction": 0.1}}


def build(**sections):
    raw = {"task": "seq2seq", "data": dict(BASE["data"])}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return config_from_dict(raw)


def problems(**sections) -> str:
    with pytest.raises(ConfigError) as info:
        build(**sections)
    return str(info.value)


def test_defaults_round_trip_and_sizes(tmp_path):
    cfg = build(model={"hidden_size": 32, "bidirectional": True, "num_layers": 3})
    assert isinstance(cfg, ExperimentConfig)
    assert cfg.model.attention == "luong" and cfg.decoding.beam_size == 5
    assert cfg.model.encoder_output_size == 64 and cfg.model.resolved_decoder_hidden_size == 64
    assert cfg.model.resolved_encoder_layers == cfg.model.resolved_decoder_layers == 3
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == cfg


def test_recipes_in_configs_load():
    for name in ("tiny_seq2seq", "cmudict_g2p_attention", "cmudict_g2p_noattention"):
        assert load_config(f"configs/{name}.yaml").task == "seq2seq"


def test_decoded_metrics_are_valid_with_their_direction():
    assert build(training={"metric": "bleu", "metric_mode": "max"}).training.metric == "bleu"
    assert "metric_mode" in problems(training={"metric": "wer", "metric_mode": "max"})
    assert "a seq2seq validates" in problems(training={"metric": "f1"})


def test_dialogue_bleu_selects_checkpoints_but_distinct_does_not():
    assert build(training={"metric": "bleu2", "metric_mode": "max"}).training.metric == "bleu2"
    assert "bleu1" in DECODED_METRICS and "bleu2" in DECODED_METRICS
    assert "metric_mode" in problems(training={"metric": "bleu1", "metric_mode": "min"})
    assert "a seq2seq validates" in problems(training={"metric": "distinct2", "metric_mode": "max"})
    logged = validation_scores("bleu2")
    assert logged == ("bleu1", "bleu2", "distinct1", "distinct2", "frequent_share")
    assert set(logged) <= set(SCORE_NAMES)


def test_architecture_rules_are_all_reported_at_once():
    message = problems(
        model={
            "attention": "bahdanau",
            "input_feeding": True,
            "context_every_step": True,
            "share_embeddings": True,
            "bridge": "copy",
            "decoder_hidden_size": 7,
        }
    )
    assert "input_feeding" in message and "context_every_step" in message
    assert "share_vocab" in message and "bridge = copy" in message
    dot = problems(model={"attention_score": "dot", "bidirectional": True, "decoder_hidden_size": 100})
    assert "attention_score = dot" in dot and "decoder_hidden_size" in dot


def test_data_rules():
    parallel = problems(data={"format": "parallel", "train": "x.txt"})
    assert "train_source" in parallel
    half = problems(data={"format": "parallel", "train": None, "train_source": "a", "valid_source": "b"})
    assert "set both" in half and "valid_target" in half
    assert "column number" in problems(data={"source_field": "src"})
    assert "a seq2seq reads parallel, tsv, jsonl" in problems(data={"format": "conll"})
    with pytest.raises(ConfigError, match="only for task: seq2seq"):
        config_from_dict({"data": {"train": "a.txt", "train_source": "b.txt"}})


def test_decoding_and_training_ranges():
    message = problems(
        decoding={"beam_size": 0, "n_best": 3, "repetition_penalty": 0.5, "max_length_ratio": 0},
        training={"label_smoothing": 1.0, "scheduled_sampling_start": 2.0},
    )
    for key in ("beam_size", "n_best", "repetition_penalty", "max_length_ratio", "label_smoothing"):
        assert key in message
    assert "scheduled_sampling_start" in message
    assert "must be one of" in problems(training={"scheduled_sampling": "cosine"})


def test_decoding_penalties_share_the_ranges_of_the_processors():
    # 1e308 is inf in float32: the processors made NaN scores from it (issue 14)
    message = problems(decoding={"repetition_penalty": 1e308, "coverage_penalty": 1e308})
    assert f"repetition_penalty = 1e+308: must be a number {REPETITION_PENALTY.text}" in message
    assert f"coverage_penalty = 1e+308: must be a number {COVERAGE_PENALTY.text}" in message


def test_diverse_beam_settings_are_checked_at_load():
    cfg = build(decoding={"beam_size": 6, "diverse_groups": 3, "diversity_strength": 0.5})
    assert (cfg.decoding.diverse_groups, cfg.decoding.diversity_strength) == (3, 0.5)
    assert (build().decoding.diverse_groups, build().decoding.diversity_strength) == (1, 0.0)
    message = problems(decoding={"beam_size": 6, "diverse_groups": 4, "diversity_strength": -1.0})
    assert "diverse_groups = 4: must divide beam_size = 6 (valid: 1, 2, 3, 6)" in message
    assert f"diversity_strength = -1.0: must be a number {DIVERSITY_STRENGTH.text}" in message
    assert "diverse_groups = 0: must be >= 1" in problems(decoding={"diverse_groups": 0})


def test_dialogue_settings_default_once_and_are_checked_at_load():
    cfg = build(data={"format": "dailydialog", "train": "d.txt"})
    assert cfg.data.context_turns == 2 and cfg.data.turn_separator == "<turn>"
    message = problems(data={"context_turns": 0, "turn_separator": "<new turn>"})
    assert "context_turns = 0: must be >= 1" in message
    assert "turn_separator = '<new turn>': a non-empty token without whitespace" in message
    assert "turn_separator = ''" in problems(data={"turn_separator": ""})


def test_dialogue_and_email_formats_are_seq2seq_formats_only():
    assert build(data={"format": "aeslc", "train": "train.tar.gz"}).data.format == "aeslc"
    message = str(
        pytest.raises(ConfigError, config_from_dict, {"data": {"format": "aeslc", "train": "x"}}).value
    )
    assert "data.format = 'aeslc': a language_model reads text" in message


def test_dialogue_and_email_recipes_load():
    for name in ("dailydialog_attention", "aeslc_attention", "tiny_dailydialog", "tiny_aeslc"):
        assert load_config(f"configs/{name}.yaml").task == "seq2seq"


def test_copy_attention_and_coverage_are_refused_without_attention(tmp_path):
    assert build(model={"copy_attention": True, "coverage_loss": 1.0}).model.copy_attention
    assert (ExperimentConfig().model.copy_attention, ExperimentConfig().model.coverage_loss) == (False, 0.0)
    message = problems(model={"attention": "none", "copy_attention": True})
    assert "model.copy_attention = true" in message and "set model.attention: luong or bahdanau" in message
    assert "model.attention is 'none'" in problems(model={"attention": "none", "coverage_loss": 0.5})
    assert "model.coverage = true" in problems(model={"attention": "none", "coverage": True})
    assert "coverage_loss = -1.0" in problems(model={"coverage_loss": -1.0})
    with pytest.raises(ConfigError, match="only for task: seq2seq"):
        config_from_dict({"data": {"train": "a.txt"}, "model": {"copy_attention": True}})
    recipe = tmp_path / "copy.yaml"
    recipe.write_text(
        "task: seq2seq\ndata: {format: tsv, train: p.tsv, valid_fraction: 0.1}\n"
        "model: {attention: none, copy_attention: true}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="copy_attention") as info:
        load_config(recipe)
    assert str(recipe) in str(info.value)


def test_pretraining_options_are_refused_where_they_cannot_apply():
    text = problems(
        model={"pretrained_vectors": "v.txt", "share_embeddings": True, "target_vectors": "t.txt"}
    )
    assert "model.pretrained_vectors = 'v.txt': a seq2seq model reads model.source_vectors" in text
    assert "model.target_vectors = 't.txt': model.share_embeddings = true" in text
    text = problems(model={"source_vectors": "v.txt", "init_encoder_from": "runs/lm"})
    assert "model.source_vectors and model.init_encoder_from: both would fill the source embedding" in text
    assert "model.freeze_vectors = true: set model.source_vectors" in problems(model={"freeze_vectors": True})
    with pytest.raises(ConfigError, match=r"model.init_decoder_from = 'runs/lm': only for task: seq2seq"):
        config_from_dict({"task": "language_model", "model": {"init_decoder_from": "runs/lm"}})
    assert "model.init_encoder_from / init_decoder_from start one" in problems(model={"init_from": "runs/x"})
    cfg = build(model={"target_vectors": "t.txt", "init_encoder_from": "runs/lm", "freeze_vectors": True})
    assert cfg.model.target_vectors == "t.txt" and cfg.model.init_encoder_from == "runs/lm"


def test_int8_decoding_defaults_off_and_is_refused_for_other_cells_and_tasks():
    assert build().decoding.int8 is False
    assert build(decoding={"int8": True}).decoding.int8 is True
    message = problems(model={"cell": "gru"}, decoding={"int8": True})
    assert "decoding.int8 = true: int8 decoding quantizes LSTM models (model.cell is 'gru')" in message
    assert "decoding.int8 = 'yes': expected true or false" in problems(decoding={"int8": "yes"})
    with pytest.raises(ConfigError, match="decoding.int8 = true: int8 decoding is for task: seq2seq"):
        config_from_dict({"task": "language_model", "data": {"train": "t.txt"}, "decoding": {"int8": True}})
