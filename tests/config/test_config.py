from pathlib import Path

import pytest
import yaml

from seqlab.config import (
    TASKS,
    ExperimentConfig,
    config_from_dict,
    config_to_dict,
    load_config,
    save_config,
)
from seqlab.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_defined_once_and_round_trip(tmp_path):
    cfg = load_config(None, ["data.train=x.txt"])
    assert isinstance(cfg, ExperimentConfig)
    save_config(cfg, tmp_path / "c.yaml")
    again = load_config(tmp_path / "c.yaml")
    assert again == cfg
    assert config_to_dict(again) == config_to_dict(cfg)


def test_config_is_frozen():
    cfg = load_config(None, ["data.train=x.txt"])
    with pytest.raises(AttributeError):
        cfg.model.hidden_size = 3  # type: ignore[misc]


def test_all_problems_reported_at_once_with_suggestions(tmp_path):
    path = write(
        tmp_path,
        "data: {train: a.txt, tokeniser: {kind: char}}\n"
        "model: {cell: lsmt, hiden_size: 3, dropout: 1.5}\n"
        "training: {optimizer: {name: adamm, lr: 0}}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "5 problem(s)" in message or "6 problem(s)" in message
    assert "data.tokeniser: unknown key (did you mean 'tokenizer'?)" in message
    assert "model.hiden_size: unknown key (did you mean 'hidden_size'?)" in message
    assert "model.cell = 'lsmt': must be one of lstm, gru, rnn_tanh (did you mean 'lstm'?)" in message
    assert "training.optimizer.name = 'adamm'" in message and "adamw" in message
    assert "valid keys in model:" in message


def test_range_rules_report_key_and_value():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": {"train": "a"}, "model": {"dropout": 1.5, "num_layers": 0}})
    message = str(info.value)
    assert "model.dropout = 1.5: must be in [0, 1)" in message
    assert "model.num_layers = 0: must be >= 1" in message


def test_type_errors_name_the_expected_type():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": {"train": "a", "batch_size": "big"}, "training": {"progress": "yes"}})
    message = str(info.value)
    assert "data.batch_size = 'big': expected an integer" in message
    assert "training.progress = 'yes': expected true or false" in message


def test_overrides_apply_and_are_validated(tmp_path):
    path = write(tmp_path, "data: {train: a.txt}\n")
    cfg = load_config(path, ["training.optimizer.lr=0.05", "model.cell=gru", "training.max_steps=null"])
    assert cfg.training.optimizer.lr == 0.05
    assert cfg.model.cell == "gru"
    assert cfg.training.max_steps is None
    with pytest.raises(ConfigError, match="training.optimizer.lr"):
        load_config(path, ["training.optimizer.lr=-1"])
    with pytest.raises(ConfigError, match="expected section.key=value"):
        load_config(path, ["training.optimizer.lr"])
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(path, ["training.optimiser.lr=1"])


def test_cross_field_rules():
    with pytest.raises(ConfigError, match="tie_weights = true needs embedding_size == hidden_size"):
        config_from_dict({"data": {"train": "a"}, "model": {"tie_weights": True, "hidden_size": 7}})
    with pytest.raises(ConfigError, match="dataset and train are both null"):
        config_from_dict({})
    with pytest.raises(ConfigError, match="set one of them, not both"):
        config_from_dict({"data": {"dataset": "ptb", "train": "a.txt"}})


def test_yaml_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "model: [unclosed\n"))
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))


COMPARE_SPECS = sorted((REPO / "configs").glob("compare_*.yaml"))  # `seqlab compare` specs, not recipes


@pytest.mark.parametrize(
    "recipe",
    [p for p in sorted((REPO / "configs").glob("*.yaml")) if p not in COMPARE_SPECS],
    ids=lambda p: p.name,
)
def test_every_shipped_recipe_is_valid(recipe):
    raw = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    cfg = config_from_dict(raw, str(recipe))
    assert cfg.task in TASKS


@pytest.mark.parametrize("spec", COMPARE_SPECS, ids=lambda p: p.name)
def test_every_shipped_comparison_spec_is_valid(spec):
    from seqlab.compare.spec_file import load_spec

    assert load_spec(spec).contenders


def test_packaged_demo_recipe_is_valid():
    cfg = load_config(REPO / "seqlab" / "configs" / "demo_cmudict.yaml")
    assert cfg.data.dataset == "cmudict_words"
    assert cfg.data.tokenizer.kind == "char"


def test_init_from_is_for_classifiers_and_taggers_only():
    with pytest.raises(ConfigError, match="model.init_from = 'runs/x': only for a classifier or tagger"):
        config_from_dict({"data": {"train": "a"}, "model": {"init_from": "runs/x"}})
    cfg = config_from_dict(
        {
            "task": "classifier",
            "data": {"train": "a", "format": "tsv"},
            "model": {"init_from": "runs/x"},
            "training": {"metric": "accuracy", "metric_mode": "max"},
        }
    )
    assert cfg.model.init_from == "runs/x"


def test_line_mode_settings_are_checked_together():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": {"train": "a", "lm_mode": "line", "lm_loss": "target"}})
    message = str(info.value)
    assert "data.lm_mode = 'line': must be one of stream, lines (did you mean 'lines'?)" in message
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": {"train": "a", "lm_loss": "target", "target_separator": "<sep>"}})
    message = str(info.value)
    assert "target_separator = '<sep>': a non-blank token, only with lm_mode: lines" in message
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": {"train": "a", "lm_mode": "lines", "lm_loss": "target"}})
    assert "lm_loss = 'target': needs target_separator" in str(info.value)
    with pytest.raises(ConfigError) as info:
        config_from_dict(
            {
                "data": {"train": "a", "lm_mode": "lines"},
                "task": "classifier",
                "training": {"metric": "accuracy", "metric_mode": "max"},
            }
        )
    assert "data.lm_mode = 'lines': only a language model" in str(info.value)
    ok = config_from_dict(
        {"data": {"train": "a", "lm_mode": "lines", "target_separator": "<sep>", "lm_loss": "target"}}
    )
    assert ok.data.lm_mode == "lines" and ok.data.lm_loss == "target"


def test_pair_side_needs_a_dataset_and_a_language_model():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": {"train": "a", "pair_side": "reply"}})
    assert "data.pair_side = 'reply': must be one of source, target" in str(info.value)
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": {"train": "a", "pair_side": "target"}})
    assert "pair_side = 'target': needs dataset" in str(info.value)
    with pytest.raises(ConfigError) as info:
        config_from_dict({"task": "seq2seq", "data": {"dataset": "dailydialog", "pair_side": "target"}})
    assert "data.pair_side = 'target': only a language model" in str(info.value)
    ok = config_from_dict({"data": {"dataset": "dailydialog", "pair_side": "target", "lm_mode": "lines"}})
    assert ok.data.pair_side == "target"


def test_source_truncate_must_be_positive():
    with pytest.raises(ConfigError, match="data.source_truncate = 0: must be >= 1 or null"):
        config_from_dict({"task": "seq2seq", "data": {"format": "tsv", "train": "a", "source_truncate": 0}})
    assert (
        config_from_dict({"task": "seq2seq", "data": {"format": "tsv", "train": "a"}}).data.source_truncate
        is None
    )


def test_target_token_budget_must_be_positive():
    with pytest.raises(ConfigError, match="training.max_target_tokens = 0: must be >= 1 or null"):
        config_from_dict({"data": {"train": "a"}, "training": {"max_target_tokens": 0}})


def test_divergence_guard_settings_are_checked_with_their_ranges():
    with pytest.raises(ConfigError) as info:
        config_from_dict(
            {
                "data": {"train": "a"},
                "training": {"divergence_patience": 0, "divergence_factor": 0.5, "max_abs_weight": -1.0},
            }
        )
    message = str(info.value)
    assert "training.divergence_patience = 0: must be >= 1 or null (off)" in message
    assert "training.divergence_factor = 0.5: must be a finite number >= 1" in message
    assert "training.max_abs_weight = -1.0: must be a finite number > 0 or null (off)" in message
    for key, value in (("max_abs_weight", float("inf")), ("divergence_factor", float("nan"))):
        with pytest.raises(
            ConfigError, match=f"training.{key} = {value}: (must be|expected) a finite number"
        ):
            config_from_dict({"data": {"train": "a"}, "training": {key: value}})


def test_divergence_guard_can_be_switched_off():
    cfg = config_from_dict(
        {"data": {"train": "a"}, "training": {"divergence_patience": None, "max_abs_weight": None}}
    )
    assert cfg.training.divergence_patience is None and cfg.training.max_abs_weight is None


def problem_lines(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, "r.yaml")
    return [line.strip()[2:] for line in str(info.value).splitlines()[1:]]


CLASSIFIER = {"task": "classifier", "data": {"train": "a.tsv", "format": "tsv"}}
CLASSIFIER_TRAINING = {"metric": "accuracy", "metric_mode": "max"}


def test_a_wrong_value_invents_no_errors_from_the_defaults_that_stand_in_for_it():
    # issue 14 item 10: a wrong value and a typo in one section made that whole section fall back
    # to its defaults, and the task rules then reported data.format 'text' and metric 'ppl'
    raw = {
        "task": "classifier",
        "data": {"train": "a.tsv", "format": "tsv", "batch_size": "big"},
        "training": {**CLASSIFIER_TRAINING, "max_epoch": 3},
    }
    problems = problem_lines(raw)
    assert len(problems) == 2, problems
    assert problems[0] == "data.batch_size = 'big': expected an integer"
    assert problems[1].startswith("training.max_epoch: unknown key (did you mean 'max_epochs'?)")


def test_the_real_errors_beside_a_wrong_value_are_all_reported():
    raw = {
        "task": "classifier",
        "data": {"train": "a.tsv", "format": "tsv", "batch_size": 0, "max_tokens": "many"},
        "training": {"metric": ["accuracy"], "metric_mode": "max", "max_epochs": 0},
        "model": {"tie_weights": True, "embedding_size": "x", "hidden_size": 8, "dropout": 2},
    }
    problems = problem_lines(raw)
    assert "data.batch_size = 0: must be >= 1" in problems  # a range rule beside a type error
    assert "data.max_tokens = 'many': expected an integer" in problems
    assert "training.metric = ['accuracy']: expected a string" in problems
    assert "training.max_epochs = 0: must be >= 1" in problems
    assert "model.embedding_size = 'x': expected an integer" in problems
    assert "model.dropout = 2.0: must be in [0, 1)" in problems
    assert "model.tie_weights = true: only a language model ties input and output" in problems
    # the rules about fields that were wrong are not judged on their defaults
    assert not any("tie_weights = true needs" in p or "metric_mode" in p for p in problems), problems
    assert len(problems) == 7, problems


def test_a_wrong_task_or_section_invents_nothing():
    problems = problem_lines({"task": "clasifier", "data": {"train": "a.tsv", "format": "tsv"}})
    assert problems == [
        "task = 'clasifier': must be one of language_model, classifier, tagger, seq2seq "
        "(did you mean 'classifier'?)"
    ]
    problems = problem_lines({**CLASSIFIER, "training": 5})
    assert len(problems) == 1 and problems[0].startswith("training = 5: expected a section"), problems
    problems = problem_lines({"task": "seq2seq", "data": {"train_source": 3, "format": "parallel"}})
    assert problems == ["data.train_source = 3: expected a string"]


@pytest.mark.parametrize("text", ["1e-3", "1E-3", "+1e-3", "1.e-3", ".1e-2", "1e3"])
def test_exponent_floats_without_a_dot_are_numbers_in_yaml_and_in_set(tmp_path, text):
    path = write(tmp_path, f"data: {{train: a.txt}}\ntraining: {{optimizer: {{lr: {text}}}}}\n")
    assert load_config(path).training.optimizer.lr == float(text)
    lr = load_config(None, ["data.train=a", f"training.optimizer.lr={text}"]).training.optimizer.lr
    assert lr == float(text)
    # where PyYAML leaves the text a string, a string field keeps it; an integer field wants an integer
    if isinstance(yaml.safe_load(text), str):
        sets = ["data.train=a", f"data.target_separator={text}", "data.lm_mode=lines"]
        assert load_config(None, sets).data.target_separator == text
    with pytest.raises(ConfigError, match="training.max_steps = .*: expected an integer"):
        load_config(None, ["data.train=a", f"training.max_steps={text}"])


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf", "nan", "1e999"])
def test_a_float_field_wants_a_finite_number(tmp_path, text):
    path = write(tmp_path, f"data: {{train: a.txt}}\ntraining: {{optimizer: {{lr: {text}}}}}\n")
    with pytest.raises(ConfigError, match="training.optimizer.lr = .*: expected a finite number"):
        load_config(path)


def test_an_integer_too_large_for_a_float_field_is_a_config_error():
    with pytest.raises(ConfigError, match="training.optimizer.lr = 1000.*: expected a finite number"):
        config_from_dict({"data": {"train": "a"}, "training": {"optimizer": {"lr": 10**400}}})


def test_override_problems_and_file_problems_are_reported_together(tmp_path):
    path = write(tmp_path, "data: {train: a.txt}\nmodel: {hiden_size: 3}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, ["training.optimizer.lr"])
    message = str(info.value)
    assert "expected section.key=value" in message and "model.hiden_size: unknown key" in message
