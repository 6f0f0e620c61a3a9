"""bench/peers: data selection, config templates, log parsing and seqlab's token budget (no toolkit runs)."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pytest
import yaml

PEERS = Path(__file__).resolve().parents[2] / "bench" / "peers"
sys.path.insert(0, str(PEERS))
for _name in ("data", "configs", "report", "toolkits", "measure"):  # e.g. tests/data as a namespace package
    _module = sys.modules.get(_name)
    if _module is not None and Path(getattr(_module, "__file__", None) or "").parent != PEERS:
        del sys.modules[_name]

import data  # noqa: E402
import report  # noqa: E402
import toolkits  # noqa: E402

import configs  # noqa: E402


def synthetic_pairs(n: int, seed: int = 0) -> list[tuple[list[str], list[str]]]:
    rng = random.Random(seed)
    src_words = [f"s{i}" for i in range(60)]
    tgt_words = [f"t{i}" for i in range(60)]
    pairs = []
    for _ in range(n):
        k = rng.randint(3, 12)
        src = [rng.choice(src_words[: rng.randint(10, 60)]) for _ in range(k)]
        tgt = [rng.choice(tgt_words[: rng.randint(10, 60)]) for _ in range(k + rng.randint(0, 2))]
        pairs.append((src, tgt))
    return pairs


def test_select_hits_exact_type_counts_and_dev_has_no_unknown_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "TRAIN_PAIRS", 300)
    monkeypatch.setattr(data, "DEV_PAIRS", 20)
    monkeypatch.setattr(data, "WORD_TYPES", 40)
    pairs = synthetic_pairs(2000)
    train, dev, _, _ = data.select(pairs)
    assert len(train) == 300 and len(dev) == 20
    assert len(data.types(train, 0)) == 40 and len(data.types(train, 1)) == 40
    assert data.types(dev, 0) <= data.types(train, 0) and data.types(dev, 1) <= data.types(train, 1)
    assert all(data.MIN_TOKENS <= len(s) <= data.MAX_TOKENS for p in train + dev for s in p)
    assert not {(tuple(s), tuple(t)) for s, t in dev} & {(tuple(s), tuple(t)) for s, t in train}
    assert data.select(pairs)[:2] == (train, dev)  # deterministic


@pytest.mark.parametrize("toolkit", ["joeynmt", "opennmt", "seqlab"])
def test_templates_fill_completely(tmp_path: Path, toolkit: str) -> None:
    fields = {
        "joeynmt": {"model_dir": tmp_path / "m", "data": tmp_path, "steps": 7, "log_every": 2, "seed": 1,
                    "beam_size": 5},
        "opennmt": {"model_dir": tmp_path / "m", "data": tmp_path, "steps": 7, "log_every": 2, "seed": 1,
                    "onmt_workers": 0},
        "seqlab": {"data": tmp_path, "steps": 7, "log_every": 2, "seed": 1, "threads": 1, "max_tokens": 816,
                   "input_feeding": True, "amp": "none"},
    }[toolkit]  # fmt: skip
    out = configs.write_config(toolkit, tmp_path / f"{toolkit}.yaml", **fields)
    text = out.read_text()
    assert "${" not in text
    loaded = yaml.safe_load(text)
    if toolkit == "seqlab":
        from seqlab.config import config_from_dict

        cfg = config_from_dict(loaded)
        assert cfg.model.input_feeding is True and cfg.data.max_tokens == 816
        assert cfg.model.resolved_decoder_hidden_size == 512 and cfg.training.max_steps == 7
    with pytest.raises(KeyError):
        configs.write_config(toolkit, tmp_path / "missing.yaml")


def test_log_parsers() -> None:
    joey = (
        "2026-11-27 22:41:32,055 - INFO - joeynmt.training - Epoch   1, Step:        5, Batch Loss:     "
        "5.759495, Batch Acc: 0.065989, Tokens per Sec:       32, Lr: 0.001000\n"
        "2026-11-27 22:43:50,000 - INFO - joeynmt.training - Epoch   1, Step:       10, Batch Loss:     "
        "4.916610, Batch Acc: 0.125345, Tokens per Sec:      429, Lr: 0.001000\n"
    )
    onmt = (
        "[2026-11-27 22:50:45,294 INFO] Step  4/    6; acc: 9.7; ppl: 576.0; xent: 6.4; lr: 0.00100; "
        "sents:     128; bsz:  564/ 960/64; 122/207 tok/s;     71 sec;\n"
    )
    assert toolkits.train_windows(toolkits.VARIANTS["joeynmt"], Path("."), joey) == [(5, 32.0), (10, 429.0)]
    assert toolkits.train_windows(toolkits.VARIANTS["opennmt"], Path("."), onmt) == [(4, 207.0)]
    joey_time = "Generation took 12.5000[sec]."
    assert toolkits.decode_seconds(toolkits.VARIANTS["joeynmt"], joey_time, 1000) == 12.5
    onmt_time = "[x INFO] Average translation time (ms): 40.2\n"
    assert toolkits.decode_seconds(toolkits.VARIANTS["opennmt"], onmt_time, 1000) == pytest.approx(40.2)
    with pytest.raises(RuntimeError):
        toolkits.decode_seconds(toolkits.VARIANTS["seqlab"], "nothing here", 1000)


def test_seqlab_budget_gives_as_many_batches_as_64_sentence_batches(tmp_path: Path) -> None:
    from seqlab.data.batching.buckets import TokenBudgetSampler

    pairs = synthetic_pairs(1000, seed=1)
    data.write_lines(tmp_path / "train.en", [p[0] for p in pairs])
    data.write_lines(tmp_path / "train.ja", [p[1] for p in pairs])
    info = data.DataInfo(str(tmp_path), "synthetic", 1000, 0, 0, 0, 0, 0, 0, "")
    budget, mean = report.seqlab_budget(info)
    lengths = [max(len(s), len(t) + 1) for s, t in pairs]
    assert len(TokenBudgetSampler(lengths, budget, shuffle=True, seed=0)) <= math.ceil(1000 / 64)
    assert len(TokenBudgetSampler(lengths, budget - 1, shuffle=True, seed=0)) > math.ceil(1000 / 64)
    assert mean == pytest.approx(1000 / len(TokenBudgetSampler(lengths, budget, shuffle=True, seed=0)))


def test_summary_takes_the_median_of_decoding_rounds_and_reads_older_results() -> None:
    speed = [{"kept_tok_s": [10.0, 30.0], "peak_tree_mb": 5.0}]
    rounds = [{"sent_s": s, "bleu": 7.0} for s in (100.0, 300.0, 120.0)]
    results = {
        "seqlab": {"speed": speed, "decode": {"5": rounds}},
        "opennmt": {"speed": speed, "decode": {"5": {"sent_s": 90.0, "bleu": 4.0}}},  # one dict: older JSON
    }
    summary = report.summarize(results)
    assert summary["seqlab"]["beam5_sent_s"] == 120.0
    assert summary["seqlab"]["beam5_bleu"] == 7.0
    assert summary["opennmt"]["beam5_sent_s"] == 90.0
    assert summary["seqlab"]["train_tok_s"] == 20.0


def test_the_int8_variant_decodes_the_seqlab_model_with_int8_and_has_its_goals(tmp_path: Path) -> None:
    int8 = toolkits.VARIANTS["seqlab-int8"]
    assert int8.decodes == "seqlab" and toolkits.VARIANTS[int8.decodes].decodes is None
    spec = toolkits.TrainSpec(
        steps=7, log_every=2, seed=1, threads=1, data=tmp_path, max_tokens=64, onmt_workers=0
    )
    model = tmp_path / "quality" / "seqlab"
    command = toolkits.decode_command(int8, model, spec, 5, tmp_path / "hyps")
    assert "--int8" in command and str(model / "run") in command
    assert "--int8" not in toolkits.decode_command(
        toolkits.VARIANTS["seqlab"], model, spec, 5, tmp_path / "h"
    )
    summary = {
        "seqlab": {"beam5_sent_s": 100.0, "beam5_bleu": 7.0},
        "seqlab-int8": {"beam5_sent_s": 150.0, "beam5_bleu": 6.5},
        "opennmt": {"beam5_sent_s": 70.0, "beam5_bleu": 5.0},
    }
    lines = report.goals(summary)
    assert "int8 beam 5 >= 2x OpenNMT-py: 2.14x -> yes" in lines
    assert "int8 dev BLEU loss (beam 5) <= 0.3: +0.50 -> NO" in lines


def test_the_bf16_variant_trains_the_seqlab_model_under_bf16_autocast(tmp_path: Path) -> None:
    spec = toolkits.TrainSpec(
        steps=7, log_every=2, seed=1, threads=1, data=tmp_path, max_tokens=64, onmt_workers=0
    )
    from seqlab.config import load_config

    amps = {}
    for name in ("seqlab", "seqlab-bf16"):
        command = toolkits.train_command(toolkits.VARIANTS[name], tmp_path / name, spec)
        cfg = load_config(command[command.index("train") + 1])
        amps[name] = (cfg.training.amp, cfg.model.input_feeding)
    assert amps == {"seqlab": ("none", True), "seqlab-bf16": ("bf16", True)}
    lines = report.goals({"seqlab-bf16": {"train_tok_s": 3000.0}, "opennmt": {"train_tok_s": 1000.0}})
    assert "bf16 training >= 1.5x OpenNMT-py: 3.00x -> yes" in lines
