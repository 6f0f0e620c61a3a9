from pathlib import Path

import pytest
import yaml

from seqlab.compare.spec import DEFAULT_CONTENDERS, contender_config, data_config
from seqlab.compare.spec_file import load_spec, spec_from_dict, spec_to_dict
from seqlab.errors import ConfigError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "compare" / "tiny_g2p.tsv"


def base() -> dict:
    return {
        "metric": "per",
        "data": {
            "format": "tsv",
            "train": str(FIXTURE),
            "valid_fraction": 0.2,
            "source_tokenizer": {"kind": "char"},
            "target_tokenizer": {"kind": "word"},
        },
        "model": {"embedding_size": 8, "hidden_size": 8, "num_layers": 1},
        "budget": {"max_steps": 5},
    }


def test_defaults_give_the_four_contenders_of_the_issue():
    spec = spec_from_dict(base())
    assert spec.contenders == DEFAULT_CONTENDERS
    assert [c.name for c in spec.contenders] == ["lm_sep", "s2s_none", "s2s_bahdanau", "s2s_luong"]
    configs = {c.name: contender_config(spec, c, Path("/r") / c.name) for c in spec.contenders}
    assert configs["lm_sep"].task == "language_model"
    assert configs["lm_sep"].data.train == "/r/lm_sep/pairs/train.txt"
    assert {configs[n].model.attention for n in ("s2s_none", "s2s_bahdanau", "s2s_luong")} == {
        "none",
        "bahdanau",
        "luong",
    }
    for cfg in configs.values():  # one budget, one seed, one model size for everyone
        assert cfg.training.max_steps == 5 and cfg.training.seed == 1
        assert cfg.model.hidden_size == 8
    assert data_config(spec).task == "seq2seq"


def test_round_trip(tmp_path):
    raw = base() | {"contenders": [{"name": "g", "kind": "seq2seq", "attention": "luong", "cell": "gru"}]}
    spec = spec_from_dict(raw)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec_to_dict(spec)), encoding="utf-8")
    assert load_spec(path) == spec
    assert contender_config(spec, spec.contenders[0], tmp_path).model.cell == "gru"


def test_every_problem_is_reported_at_once_with_suggestions():
    raw = base()
    raw["metric"] = "bleuu"
    raw["budgett"] = {}
    raw["budget"] = {"max_minutes": -1}
    raw["training"] = {"max_steps": 10}
    raw["decoding"] = {"beam_size": 0}
    raw["contenders"] = [
        {"name": "a", "kind": "lm_sep", "attention": "luong"},
        {"name": "a", "kind": "seq2seq", "set": ["model.hiden_size=3"]},
        {"kind": "seq2seq"},
    ]
    with pytest.raises(ConfigError) as info:
        spec_from_dict(raw, "spec.yaml")
    text = str(info.value)
    assert "spec.yaml" in text
    assert "did you mean 'bleu'" in text
    assert "budgett: unknown key (did you mean 'budget'?)" in text
    assert "budget.max_minutes = -1" in text
    assert "training.max_steps: the spec sets it" in text and "budget.max_steps" in text
    assert "decoding.beam_size = 0" in text
    assert "has no attention" in text
    assert "'a' is used more than once" in text
    assert "contenders[2].name: required" in text


def test_contender_overrides_are_validated_as_configs():
    raw = base() | {"contenders": [{"name": "x", "kind": "seq2seq", "set": ["model.hiden_size=3"]}]}
    with pytest.raises(ConfigError, match="hiden_size.*did you mean 'hidden_size'"):
        spec_from_dict(raw)


def test_budget_is_required():
    raw = base()
    raw["budget"] = {"max_parameters": 1000}
    with pytest.raises(ConfigError, match="give the budget in steps, minutes or target tokens"):
        spec_from_dict(raw)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="no such comparison spec"):
        load_spec(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_spec(bad)


def test_seeds_default_to_the_single_seed_and_round_trip(tmp_path):
    spec = spec_from_dict(base())
    assert spec.seeds is None and spec.run_seeds == (None,)
    spec = spec_from_dict(base() | {"seeds": [3, 1, 2]})
    assert spec.seeds == (3, 1, 2) and spec.run_seeds == (3, 1, 2)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec_to_dict(spec)), encoding="utf-8")
    assert load_spec(path) == spec


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([], r"seeds = \[\]: give at least one seed"),
        ([1, 2, 1], r"seeds = \[1, 2, 1\]: each seed once \(repeated: 1\)"),
        ([1, "2"], r"seeds = \[1, '2'\]: expected a list of integers"),
        (3, "seeds = 3: expected a list of integers"),
        ([True], r"seeds = \[True\]: expected a list of integers"),
    ],
)
def test_bad_seeds_are_refused_naming_the_key(seeds, message):
    with pytest.raises(ConfigError, match=message):
        spec_from_dict(base() | {"seeds": seeds})


def test_lm_sep_trains_lines_with_its_loss_choice():
    raw = base() | {
        "contenders": [
            {"name": "plain", "kind": "lm_sep"},
            {"name": "prefix", "kind": "lm_sep", "loss": "target"},
        ],
        "budget": {"max_target_tokens": 5000},
    }
    spec = spec_from_dict(raw)
    plain, prefix = (contender_config(spec, c, Path("/r") / c.name) for c in spec.contenders)
    assert plain.data.lm_mode == prefix.data.lm_mode == "lines"
    assert plain.data.target_separator == prefix.data.target_separator == "<sep>"
    assert (plain.data.lm_loss, prefix.data.lm_loss) == ("all", "target")
    assert plain.training.max_target_tokens == 5000 and plain.training.max_steps is None
    assert "prefix LM" in spec.contenders[1].describe() and "every token" in spec.contenders[0].describe()


def test_unknown_loss_choice_and_budget_key_fail_before_training():
    raw = base() | {
        "contenders": [
            {"name": "lm", "kind": "lm_sep", "loss": "targets"},
            {"name": "s", "kind": "seq2seq", "loss": "target"},
        ],
        "budget": {"max_tokens": 5000, "max_steps": 5},
    }
    with pytest.raises(ConfigError) as info:
        spec_from_dict(raw, "spec.yaml")
    text = str(info.value)
    assert "loss = 'targets': must be one of all, target" in text
    assert "loss = 'target': only a language model (kind lm_sep) chooses its loss" in text
    assert "budget.max_tokens: unknown key" in text and "max_target_tokens" in text
