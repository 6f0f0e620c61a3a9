"""A comparison end to end on tiny data: results, report, and resuming after an interruption."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

import seqlab.compare.run as run_module
from seqlab.compare.results import load_results
from seqlab.compare.run import report_only, run_compare
from seqlab.compare.verdict import verdict
from seqlab.errors import ConfigError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "compare" / "tiny_g2p.tsv"


def tiny_spec(tmp_path: Path, contenders: list[dict], **changes) -> Path:
    spec = {
        "title": "tiny G2P",
        "seed": 3,
        "metric": "per",
        "extra_metrics": ["exact_match"],
        "data": {
            "format": "tsv",
            "train": str(FIXTURE),
            "valid_fraction": 0.2,
            "source_tokenizer": {"kind": "char"},
            "target_tokenizer": {"kind": "word"},
            "max_tokens": 200,
        },
        "model": {"embedding_size": 8, "hidden_size": 12, "num_layers": 1},
        "training": {"optimizer": {"name": "adam", "lr": 0.01}, "validate_every": 4, "log_every": 2},
        "lm": {"data": {"batch_size": 4, "eval_batch_size": 4, "bptt": 12}},
        "budget": {"max_steps": 8, "max_parameters": 50_000},
        "decoding": {"beam_size": 2, "max_length": 10, "blocking_ngram": 2},
        "evaluation": {"max_examples": 12, "attention_examples": 1, "show_examples": 2},
        "contenders": contenders,
        **changes,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


CONTENDERS = [
    {"name": "lm_sep", "kind": "lm_sep"},
    {"name": "s2s_luong", "kind": "seq2seq", "attention": "luong"},
]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished comparison (two contenders, in-process), shared; tests work on copies."""
    base = tmp_path_factory.mktemp("finished")
    spec = tiny_spec(base, CONTENDERS)
    lines: list[str] = []
    results = run_compare(spec, base / "report", isolate=False, echo=lines.append)
    return spec, base / "report", results, lines


def copy_of(report: Path, tmp_path: Path) -> Path:
    target = tmp_path / "report"
    shutil.copytree(report, target, symlinks=True)
    return target


def test_results_and_report_of_a_finished_comparison(finished):
    _, report, results, lines = finished
    assert [c["name"] for c in results["contenders"]] == ["lm_sep", "s2s_luong"]
    on_disk = load_results(report / "results.json")
    assert on_disk["contenders"] == results["contenders"]
    for contender in on_disk["contenders"]:
        assert contender["train"]["steps"] == 8
        assert (report / contender["run_dir"] / "model.safetensors").is_file()
        assert contender["parameters"] > 0 and contender["decode"]["sentences"] == 12
        assert contender["memory"]["peak_mb"] is None  # in-process: not measured, and says so
        assert contender["train"]["target_tokens"] > 0 and contender["seed"] == 3
        assert len(contender["per_example"]["stats"]) == 12 and contender["per_example"]["metric"] == "per"
    assert [c["lm_loss"] for c in on_disk["contenders"]] == ["all", None]
    interval = next(row for row in verdict(on_disk) if row.criterion == "quality").interval
    by_name = {c["name"]: c["quality"] for c in on_disk["contenders"]}  # the kept statistics agree
    assert interval.reason is None and interval.pairs == 12
    assert interval.difference == pytest.approx(by_name[interval.first] - by_name[interval.second])
    assert interval.low <= interval.difference <= interval.high
    assert on_disk["contenders"][1]["attention_examples"]  # Luong attention has heatmaps
    assert not on_disk["contenders"][0]["attention_examples"]  # the language model has none
    assert (report / "report.html").is_file() and (report / "figures" / "quality_by_length.png").is_file()
    assert (report / "figures" / "attention_s2s_luong_1.png").is_file()
    assert any("verdict" in line for line in lines)


def test_a_finished_comparison_measures_diversity_plain_and_blocked(finished):
    _, report, results, _ = finished
    for contender in results["contenders"]:
        for block in (contender["repetition"]["plain"], contender["repetition"]["blocked"]):
            assert 0 <= block["distinct1"] <= 100 and 0 <= block["distinct2"] <= 100
            assert 0 < block["frequent_share"] <= 100
    assert "| contender | distinct-1 | distinct-2 | top-10 outputs |" in (report / "report.md").read_text()


def test_a_rerun_skips_finished_contenders(finished, tmp_path, monkeypatch):
    spec, report, results, _ = finished
    report = copy_of(report, tmp_path)

    def fail(*args, **kwargs):
        raise AssertionError("a finished contender was run again")

    monkeypatch.setattr(run_module, "run_contender", fail)
    monkeypatch.setattr(run_module, "check_sizes", fail)
    lines: list[str] = []
    again = run_compare(spec, report, isolate=False, echo=lines.append)
    assert sum("finished earlier, skipped" in line for line in lines) == 2
    assert again["contenders"] == results["contenders"]


def test_a_half_finished_contender_resumes_from_its_checkpoint(finished, tmp_path, monkeypatch):
    spec, report, _, _ = finished
    report = copy_of(report, tmp_path)
    # s2s_luong interrupted after its last checkpoint: no finished marker
    (report / "contenders" / "s2s_luong" / "result.json").unlink()
    calls: list[str] = []
    real = run_module.run_contender

    def spy(report_dir, name, **kwargs):
        calls.append(name)
        return real(report_dir, name, **kwargs)

    monkeypatch.setattr(run_module, "run_contender", spy)
    results = run_compare(spec, report, isolate=False, echo=lambda _: None)
    assert calls == ["s2s_luong"]  # lm_sep was finished and skipped
    luong = results["contenders"][1]
    assert luong["train"]["resumed"] is True and luong["train"]["steps"] == 8  # not trained again


@pytest.mark.parametrize("name", ["lm_sep", "s2s_luong"])
def test_a_contender_stopped_before_its_first_checkpoint_starts_over(finished, tmp_path, name):
    """Its directory holds the prepared files and a config.yaml but no last/: train refuses such a
    directory from users (issue 14), the harness, which owns it, starts the contender again."""
    from seqlab.compare.worker import run_contender
    from seqlab.training.run_dir import RUN_FILES

    spec, report, _, _ = finished
    report = copy_of(report, tmp_path)
    run = report / "contenders" / name
    for entry in list(run.iterdir()):
        if entry.name not in RUN_FILES[:-1] and entry.name != "pairs":  # keep config and vocabularies
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    assert (run / "config.yaml").is_file() and not (run / "last").exists()
    result = run_contender(report, name, measure_memory=False)
    assert result["train"]["resumed"] is False and result["train"]["steps"] == 8


def test_a_different_spec_in_the_same_folder_is_refused(finished, tmp_path):
    _, report, _, _ = finished
    report = copy_of(report, tmp_path)
    other = tiny_spec(tmp_path, CONTENDERS, seed=4)
    with pytest.raises(ConfigError, match="another spec.*seed"):
        run_compare(other, report, isolate=False, echo=lambda _: None)


def test_parameter_limit_is_checked_before_training(tmp_path):
    spec = tiny_spec(tmp_path, CONTENDERS, budget={"max_steps": 8, "max_parameters": 100})
    with pytest.raises(ConfigError, match="max_parameters = 100: lm_sep has"):
        run_compare(spec, tmp_path / "report", isolate=False, echo=lambda _: None)
    assert not (tmp_path / "report" / "contenders" / "lm_sep" / "last").exists()


def test_report_only_redraws_from_results_json(finished, tmp_path):
    _, report, _, _ = finished
    report = copy_of(report, tmp_path)
    data = json.loads((report / "results.json").read_text(encoding="utf-8"))
    data["title"] = "edited title"
    data["contenders"][0]["quality"] = -1.0  # the language model now wins on quality
    (report / "results.json").write_text(json.dumps(data), encoding="utf-8")
    lines: list[str] = []
    report_only(report, echo=lines.append)
    assert "edited title" in (report / "report.html").read_text(encoding="utf-8")
    quality_row = next(line for line in "\n".join(lines).splitlines() if line.startswith("quality (PER %)"))
    assert quality_row.split()[3] == "lm_sep"


def test_subprocess_contender_measures_its_peak_memory(tmp_path):
    report = tmp_path / "report"
    lines: list[str] = []
    results = run_compare(tiny_spec(tmp_path, CONTENDERS[:1]), report, echo=lines.append)
    memory = results["contenders"][0]["memory"]
    assert memory["peak_mb"] >= memory["train_peak_mb"] >= memory["baseline_mb"] > 10
    assert any("lm_sep: started" in line for line in lines)
    assert "training" in (report / "contenders" / "lm_sep" / "log.txt").read_text(encoding="utf-8")


def test_language_model_contender_decodes_target_tokens_only_and_prompts_exactly(finished):
    import torch

    from seqlab.compare.lm_sep import SEP, LMSepTranslator

    _, report, _, _ = finished
    translator = LMSepTranslator(report / "contenders" / "lm_sep")
    targets = set(translator.pipeline.target_vocab.stoi)
    for output in translator.translate(["cat", "abcdefghij", "zebra"], beam_size=3, max_length=8):
        assert set(output.tokens) <= targets, output.tokens
    banned = {translator.vocab.itos[i] for i in translator.non_target_ids()}
    assert "c" in banned and SEP not in targets and "K" not in banned
    # a batch of prompts of different lengths leaves each row in the state of its prompt alone
    vocab, lm = translator.vocab, translator.predictor.model
    words = ["abbreviate", "cat"]
    ids = [vocab.encode(list(word)) for word in words]
    lengths = torch.tensor([len(row) for row in ids])
    src = torch.zeros(2, int(lengths.max()), dtype=torch.long)
    for row, seq in enumerate(ids):
        src[row, : len(seq)] = torch.tensor(seq)
    memory = translator.model.encode(src, lengths)  # each row read as <eos> word <sep>
    for row, seq in enumerate(ids):
        logits, alone = lm(torch.tensor([[vocab.eos_id, *seq, vocab.stoi[SEP]]]), None)
        torch.testing.assert_close(memory.start.state.h[:, row], alone.h[:, 0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(memory.start.logits[row], logits[0, -1], atol=1e-5, rtol=1e-5)


def test_command_line(finished, tmp_path, capsys):
    from seqlab.cli import main

    _, report, _, _ = finished
    report = copy_of(report, tmp_path)
    assert main(["compare", "-o", str(report), "--report-only"]) == 0
    out = capsys.readouterr().out
    assert "s2s_luong" in out and "verdict" in out
    assert main(["compare", "-o", str(report)]) == 2
    assert "give SPEC.yaml" in capsys.readouterr().err


def test_seeds_train_each_contender_once_per_seed(tmp_path):
    spec = tiny_spec(tmp_path, CONTENDERS[1:], seeds=[5, 6], budget={"max_steps": 4})
    lines: list[str] = []
    results = run_compare(spec, tmp_path / "report", isolate=False, echo=lines.append)
    assert results["seeds"] == [5, 6]
    (luong,) = results["contenders"]
    assert [run["seed"] for run in luong["seed_runs"]] == [5, 6]
    for run in luong["seed_runs"]:
        assert (tmp_path / "report" / run["run_dir"] / "model.safetensors").is_file()
        assert run["run_dir"] == f"contenders/s2s_luong/seed_{run['seed']}"
        assert run["train"]["steps"] == 4 and run["per_example"]["stats"]
    assert luong["seed"] == 5 and "per_example" not in luong  # the first seed's run, stats in seed_runs
    assert any("s2s_luong/seed_6: finished" in line for line in lines)
    text = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Seeds" in text and "s2s_luong (seed 6)" in text
    again: list[str] = []
    run_compare(spec, tmp_path / "report", isolate=False, echo=again.append)  # resumes: nothing to train
    assert sum("finished earlier, skipped" in line for line in again) == 2
