"""bench/peers/time_to_quality.py: minutes to target, the table, the data files both toolkits read,
log and checkpoint parsing, the scorer (no toolkit trains here)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

PEERS = Path(__file__).resolve().parents[2] / "bench" / "peers"
sys.path.insert(0, str(PEERS))
for _name in ("configs", "measure", "ttq_data", "ttq_report", "ttq_toolkits"):
    _module = sys.modules.get(_name)
    if _module is not None and Path(getattr(_module, "__file__", None) or "").parent != PEERS:
        del sys.modules[_name]

import ttq_data  # noqa: E402
import ttq_report  # noqa: E402
import ttq_toolkits  # noqa: E402


def curve(*points: tuple[float, float]) -> list[dict]:
    return [{"minutes": m, "step": i * 100, "metric": v} for i, (m, v) in enumerate(points, start=1)]


def test_minutes_to_target_is_the_first_checkpoint_at_or_past_it_within_the_budget() -> None:
    wer = curve((5, 40.0), (10, 31.0), (15, 29.5), (20, 30.5), (25, 26.0), (65, 24.0))
    assert ttq_report.minutes_to(wer, 30.0, lower=True, budget=60) == 15
    assert ttq_report.minutes_to(wer, 31.0, lower=True, budget=60) == 10  # equal counts as reached
    assert ttq_report.minutes_to(wer, 27.0, lower=True, budget=60) == 25
    assert ttq_report.minutes_to(wer, 25.0, lower=True, budget=60) is None  # only after the budget
    assert ttq_report.minutes_to(wer, 25.0, lower=True, budget=70) == 65
    bleu = curve((5, 20.0), (10, 33.5), (15, 32.0))
    assert ttq_report.minutes_to(bleu, 33.0, lower=False, budget=60) == 10
    assert ttq_report.minutes_to(bleu, 35.0, lower=False, budget=60) is None
    failed = [{"minutes": 3.0, "step": 10, "metric": None}, *bleu]  # a checkpoint that did not decode
    assert ttq_report.minutes_to(failed, 30.0, lower=False, budget=60) == 10


def test_best_at_takes_only_checkpoints_within_the_minutes() -> None:
    wer = curve((5, 40.0), (10, 31.0), (35, 26.0), (50, 27.0))
    assert ttq_report.best_at(wer, 30, lower=True) == 31.0
    assert ttq_report.best_at(wer, 60, lower=True) == 26.0
    assert ttq_report.best_at(wer, 4, lower=True) is None
    assert ttq_report.best_at(curve((5, 20.0), (9, 25.0)), 10, lower=False) == 25.0


@given(
    st.lists(st.tuples(st.floats(0.1, 60), st.floats(0, 100)), min_size=1, max_size=12),
    st.floats(0, 100),
    st.floats(0, 100),
)
def test_a_harder_target_is_never_reached_sooner(points: list, a: float, b: float) -> None:
    easy, hard = max(a, b), min(a, b)  # WER: lower is harder
    c = curve(*sorted(points))
    t_easy = ttq_report.minutes_to(c, easy, lower=True, budget=60)
    t_hard = ttq_report.minutes_to(c, hard, lower=True, budget=60)
    if t_hard is not None:
        assert t_easy is not None and t_easy <= t_hard
    best = ttq_report.best_at(c, 60, lower=True)
    assert (t_hard is not None) == (best is not None and best <= hard)


def test_verdicts_against_the_half_goal() -> None:
    assert ttq_report.verdict(10.0, 25.0, 60)["goal"] == "met"
    assert ttq_report.verdict(10.0, 25.0, 60)["ratio"] == pytest.approx(0.4)
    assert ttq_report.verdict(15.0, 25.0, 60)["goal"] == "not met"
    met_bound = ttq_report.verdict(20.0, None, 60)  # OpenNMT-py needs > 60 min: ratio < 1/3
    assert met_bound["goal"].startswith("met") and met_bound["bound"] == "< 0.33"
    assert ttq_report.verdict(40.0, None, 60)["goal"].startswith("undecided")
    assert ttq_report.verdict(None, 30.0, 60)["goal"].startswith("not met")
    assert ttq_report.verdict(None, None, 60)["goal"] == "neither reached it"


def test_summary_and_table() -> None:
    curves = {
        "seqlab": curve((5, 35.0), (10, 29.0), (20, 26.5), (30, 25.5), (55, 24.9)),
        "opennmt": curve((5, 45.0), (15, 33.0), (25, 29.8), (45, 27.0)),
    }
    summary = ttq_report.summarize_task("g2p", curves, 60, [30, 60])
    assert summary["minutes_to"]["30"] == {"seqlab": 10, "opennmt": 25}
    assert summary["minutes_to"]["25"] == {"seqlab": 55, "opennmt": None}
    assert summary["best_at"]["30"] == {"seqlab": 25.5, "opennmt": 29.8}
    assert summary["verdicts"]["30"]["goal"] == "met"
    assert summary["verdicts"]["27"]["ratio"] == pytest.approx(20 / 45)
    lines = ttq_report.table_lines("g2p", summary, ["seqlab", "opennmt"])
    assert lines[0].startswith("G2P") and "lower is better" in lines[0]
    row = next(line for line in lines if line.startswith("minutes to WER 25"))
    assert "55.0" in row and "not in 60 min" in row and "undecided" in row
    assert any(line.startswith("best WER within 30 min") and "25.50" in line for line in lines)
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns
    assert list(summary["best_at"]) == ["30", "60"]
    short = ttq_report.summarize_task("g2p", curves, 20, [30, 60])
    assert short["best_at"] == {
        "20": {"seqlab": 26.5, "opennmt": 33.0}
    }  # no "best within 30" of a 20-min run
    one = ttq_report.table_lines(
        "multi30k", ttq_report.summarize_task("multi30k", {"seqlab": []}, 2, [30]), ["seqlab"]
    )
    assert "seqlab/OpenNMT-py" not in one[1] and "higher is better" in one[0]


def test_plot_writes_a_png(tmp_path: Path) -> None:
    curves = {"g2p": {"seqlab": curve((1, 40.0), (2, 35.0)), "opennmt": curve((1.5, 50.0))}}
    out = ttq_report.plot(tmp_path / "ttq.png", curves, budget=2)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


G2P_TRAIN = [("AARON", "EH R AH N"), ("ABACK", "AH B AE K"), ("CAT", "K AE T"), ("DOG", "D AO G")]
G2P_VALID = [("EITHER", "IY DH ER"), ("EITHER", "AY DH ER"), ("BOB", "B AA B")]


def test_g2p_files_keep_the_hold_out_and_group_pronunciations(tmp_path: Path) -> None:
    files = ttq_data.write_g2p(tmp_path, G2P_TRAIN, G2P_VALID)
    read = ttq_data.read_lines
    assert read(tmp_path / "train.src") == ["a a r o n", "a b a c k", "c a t", "d o g"]
    assert read(tmp_path / "train.tgt") == [t for _, t in G2P_TRAIN]
    assert read(tmp_path / "valid.src") == ["e i t h e r", "e i t h e r", "b o b"]  # one line a pair
    assert read(tmp_path / "test.src") == ["e i t h e r", "b o b"]  # each held-out word once
    refs = json.loads((tmp_path / "test.refs.json").read_text())
    assert refs == [["IY DH ER", "AY DH ER"], ["B AA B"]]
    train_words = {w.lower() for w, _ in G2P_TRAIN}
    assert not {w.replace(" ", "") for w in read(tmp_path / "test.src")} & train_words
    assert set(read(tmp_path / "vocab.src")) == set("aaronbackcatdog")
    assert files["onmt_train"] == "train" and files["onmt_test_src"] == "test.src"


def test_both_toolkits_read_the_same_g2p_files(tmp_path: Path) -> None:
    files = ttq_data.write_g2p(tmp_path, G2P_TRAIN, G2P_VALID)
    info = ttq_data.TaskData("g2p", str(tmp_path), "cmudict_g2p", 4, 3, 2, "", files)
    spec = ttq_toolkits.TrainSpec(threads=1, seed=1, minutes=2.0, save_steps=48, log_every=50, onmt_workers=0)
    onmt = ttq_toolkits.train_command("opennmt", info, tmp_path / "onmt", spec)
    ours = ttq_toolkits.train_command("seqlab", info, tmp_path / "seqlab", spec)
    onmt_cfg = yaml.safe_load(Path(onmt[onmt.index("-config") + 1]).read_text())
    seqlab_text = Path(ours[ours.index("train") + 1]).read_text()
    assert "${" not in seqlab_text
    from seqlab.config import config_from_dict

    cfg = config_from_dict(yaml.safe_load(seqlab_text))
    corpus = onmt_cfg["data"]["corpus_1"]
    assert Path(corpus["path_src"]) == Path(cfg.data.train_source) == tmp_path / "train.src"
    assert Path(corpus["path_tgt"]) == Path(cfg.data.train_target) == tmp_path / "train.tgt"
    assert cfg.training.save_every == 48 and cfg.training.max_minutes == 2.0 and cfg.training.threads == 1
    assert cfg.model.attention == "luong" and cfg.training.metric == "wer"
    assert (onmt_cfg["enc_layers"], onmt_cfg["enc_hid_size"], onmt_cfg["encoder_type"]) == (2, 256, "brnn")
    assert (onmt_cfg["dec_layers"], onmt_cfg["dec_hid_size"], onmt_cfg["input_feed"]) == (2, 256, 1)
    assert (onmt_cfg["batch_size"], onmt_cfg["learning_rate"], onmt_cfg["dropout"]) == (64, 0.001, [0.2])
    assert onmt_cfg["save_checkpoint_steps"] == 48 and onmt_cfg["keep_checkpoint"] == -1
    assert onmt[:3] == [str(ttq_toolkits.PEERS_PYTHON), str(ttq_toolkits.LAUNCH), "1"]


def test_a_candidate_s_overrides_reach_seqlab_train_and_only_seqlab(tmp_path: Path) -> None:
    files = ttq_data.write_g2p(tmp_path, G2P_TRAIN, G2P_VALID)
    info = ttq_data.TaskData("g2p", str(tmp_path), "cmudict_g2p", 4, 3, 2, "", files)
    sets = ("training.schedule.name=step", "training.schedule.step_size=1600")
    spec = ttq_toolkits.TrainSpec(1, 1, 2.0, 48, 50, 0, seqlab_set=sets)
    ours = ttq_toolkits.train_command("seqlab", info, tmp_path / "seqlab", spec)
    assert ours[-4:] == ["--set", sets[0], "--set", sets[1]]
    assert "--set" not in ttq_toolkits.train_command("opennmt", info, tmp_path / "onmt", spec)
    from seqlab.config import load_config  # as `seqlab train CONFIG --set ...` reads them

    cfg = load_config(ours[ours.index("train") + 1], sets)
    assert (cfg.training.schedule.name, cfg.training.schedule.step_size) == ("step", 1600)


def test_multi30k_pieces_come_from_the_raw_text_and_join_back(tmp_path: Path) -> None:
    train = [(f"A dog runs {i} times.", f"Ein Hund rennt {i} Mal.") for i in range(40)]
    valid = [("A dog runs.", "Ein Hund rennt.")]
    files = ttq_data.write_multi30k(tmp_path, train, valid)
    info = ttq_data.TaskData("multi30k", str(tmp_path), "multi30k_en_de", 40, 1, 1, "", files)
    assert ttq_data.read_lines(tmp_path / "train.en") == [s for s, _ in train]
    pieces = ttq_data.read_lines(tmp_path / "train.sp.de")
    detok = ttq_data.detokenizer(info)
    assert [detok(p.split()) for p in pieces] == [t for _, t in train]
    assert ttq_data.read_lines(tmp_path / "test.src") == ["A dog runs."]
    assert json.loads((tmp_path / "test.refs.json").read_text()) == [["Ein Hund rennt."]]
    out = tmp_path / "hyps"
    out.write_text(pieces[0] + "\n", encoding="utf-8")
    assert ttq_toolkits.read_outputs("opennmt", out, detok) == [train[0][1]]
    assert ttq_toolkits.read_outputs("seqlab", out, detok) == [pieces[0]]  # seqlab writes text already


def test_the_scorer_takes_the_closest_pronunciation_and_detokenized_bleu() -> None:
    refs = [["IY DH ER", "AY DH ER"], ["B AA B"]]
    assert ttq_data.score("g2p", ["AY DH ER", "B AA B"], refs)["wer"] == 0.0
    scores = ttq_data.score("g2p", ["AY DH ER", "B AO B"], refs)
    assert scores["wer"] == 50.0 and scores["per"] > 0
    assert (
        ttq_data.score("multi30k", ["Ein Hund rennt im Park ."], [["Ein Hund rennt im Park ."]])["bleu"]
        == 100.0
    )
    with pytest.raises(RuntimeError):
        ttq_data.score("g2p", ["AY DH ER"], refs)


def test_rates_from_the_toolkits_logs(tmp_path: Path) -> None:
    onmt = "".join(
        f"[2026-12-07 15:25:{s:02d},000 INFO] Step {step}/100000000; acc: 14.7; ppl:  28.3; xent: 3.3; "
        f"lr: 0.00100; sents:     640; bsz:  474/ 467/64; 2161/2129 tok/s;     {s} sec;\n"
        for step, s in ((10, 8), (20, 10), (60, 20))
    )
    assert ttq_toolkits.rate_from_log("opennmt", tmp_path, onmt) == pytest.approx(50 / 12)
    assert ttq_toolkits.rate_from_log("opennmt", tmp_path, onmt.splitlines()[0]) is None
    metrics = tmp_path / "run" / "metrics.jsonl"
    metrics.parent.mkdir()
    records = [
        {"split": "train", "step": 5, "elapsed_s": 6.0},
        {"split": "valid", "step": 8, "elapsed_s": 9.0},
        {"split": "train", "step": 25, "elapsed_s": 31.0},
    ]
    metrics.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert ttq_toolkits.rate_from_log("seqlab", tmp_path, "") == pytest.approx(20 / 25)
    assert ttq_toolkits.save_steps_for(0.8, 1.0) == 48
    assert ttq_toolkits.save_steps_for(0.001, 1.0) == 1


def test_snapshots_and_checkpoint_minutes(tmp_path: Path) -> None:
    run = tmp_path / "seqlab" / "run"
    folder = run / "ckpt-last-48-0a1b2c3d"
    folder.mkdir(parents=True)
    (run / "ckpt-best-48-ffffffff").mkdir()
    for name in ("model.safetensors", "state.json", "optimizer.safetensors"):
        (folder / name).write_text(name)
    snapshots = ttq_toolkits.Snapshots(run, tmp_path / "seqlab" / "snapshots")
    snapshots.poll()
    for name in ("model.safetensors", "state.json", "optimizer.safetensors"):
        (folder / name).unlink()  # the next save removes the folder: the links keep the files
    folder.rmdir()
    kept = tmp_path / "seqlab" / "snapshots" / "step-48"
    assert (kept / "model.safetensors").read_text() == "model.safetensors"
    assert sorted(p.name for p in kept.iterdir()) == ["model.safetensors", "state.json"]
    assert [p.name for p in (tmp_path / "seqlab" / "snapshots").iterdir()] == ["step-48"]  # not best/
    launched = 1_000_000.0
    os.utime(kept / "model.safetensors", (launched + 90, launched + 90))
    onmt_model = tmp_path / "onmt" / "model"
    onmt_model.mkdir(parents=True)
    for step, seconds in ((200, 150), (100, 60)):
        (onmt_model / f"model_step_{step}.pt").write_text("x")
        os.utime(onmt_model / f"model_step_{step}.pt", (launched + seconds, launched + seconds))
    (onmt_model / "data.vocab.src").write_text("x")
    ours = ttq_toolkits.checkpoints("seqlab", tmp_path / "seqlab", launched)
    assert [(c.step, c.minutes) for c in ours] == [(48, pytest.approx(1.5))]
    theirs = ttq_toolkits.checkpoints("opennmt", tmp_path / "onmt", launched)
    assert [(c.step, c.minutes) for c in theirs] == [(100, pytest.approx(1.0)), (200, pytest.approx(2.5))]


HARNESS_ONLY = {"seed", "threads", "device", "max_minutes", "save_every", "log_every", "progress"}
RECIPES = {"g2p": "cmudict_g2p_fast.yaml", "multi30k": "multi30k_en_de.yaml"}


@pytest.mark.parametrize("task", sorted(RECIPES))
def test_the_harness_trains_the_recipe_it_names(tmp_path: Path, task: str) -> None:
    """The harness's seqlab config repeats its recipe's model, training and decoding (only the data
    files, the clock and the checkpoints are the harness's), so the figures are the recipe's."""
    from configs import write_config

    fields = dict(data=tmp_path, seed=1, threads=1, minutes=60, save_every=100, log_every=50)
    harness = yaml.safe_load(write_config(f"seqlab-ttq-{task}", tmp_path / "s.yaml", **fields).read_text())
    recipe = yaml.safe_load((PEERS.parents[1] / "configs" / RECIPES[task]).read_text(encoding="utf-8"))
    assert harness["model"] == recipe["model"]
    assert harness["decoding"] == recipe["decoding"]
    trained = {k: v for k, v in harness["training"].items() if k not in HARNESS_ONLY}
    assert trained == {k: v for k, v in recipe["training"].items() if k not in HARNESS_ONLY}
    for key in ("max_tokens", "max_source_length", "max_target_length", "eval_batch_size", "share_vocab"):
        assert harness["data"].get(key) == recipe["data"].get(key), key
    if task == "multi30k":  # G2P's harness reads words already cut into lowercased characters
        for side in ("source_tokenizer", "target_tokenizer"):
            assert harness["data"][side] == recipe["data"][side]
