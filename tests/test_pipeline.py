from pathlib import Path

import pytest
import torch

from seqlab.config import load_config
from seqlab.errors import CheckpointError, ConfigError
from seqlab.pipeline import train, with_absolute_paths

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny_lm.yaml"


def test_relative_data_paths_are_stored_absolute(monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = with_absolute_paths(load_config(TINY))
    assert Path(cfg.data.train).is_absolute() and Path(cfg.data.train).is_file()
    assert Path(cfg.data.valid) == REPO / "tests" / "fixtures" / "tiny_valid.txt"


def test_resume_with_a_different_config_lists_the_differences(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    run = tmp_path / "run"
    train(load_config(TINY, ["training.max_steps=4"]), run)
    changed = load_config(TINY, ["training.max_steps=4", "model.hidden_size=48"])
    with pytest.raises(ConfigError) as info:
        train(changed, run, resume=True)
    message = str(info.value)
    assert "model.hidden_size: run has 32, now 48" in message
    assert "training.max_steps: run has" not in message  # equal keys are not listed
    budget = "training.max_epochs, training.max_steps, training.max_minutes, training.max_target_tokens"
    assert f"only {budget} may change" in message


def test_resume_without_a_run_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    with pytest.raises(CheckpointError, match="drop --resume"):
        train(load_config(TINY), tmp_path / "nothing", resume=True)


@pytest.mark.parametrize(
    "mode",
    [["data.lm_mode=lines", "data.max_tokens=48"], ["data.fresh_line_share=0.3"]],
    ids=["lines", "mixed"],
)
def test_line_and_mixed_modes_resume_exactly(tmp_path, monkeypatch, mode):
    from safetensors.torch import load_file

    monkeypatch.chdir(REPO)

    def run(run_dir, steps, resume=False):
        train(
            load_config(TINY, [f"training.max_steps={steps}", "training.save_every=10", *mode]),
            run_dir,
            resume,
        )

    run(tmp_path / "whole", 50)
    run(tmp_path / "parts", 25)
    run(tmp_path / "parts", 50, resume=True)
    whole = load_file(str(tmp_path / "whole" / "last" / "model.safetensors"))
    parts = load_file(str(tmp_path / "parts" / "last" / "model.safetensors"))
    assert whole.keys() == parts.keys() and all(torch.equal(whole[k], parts[k]) for k in whole)
