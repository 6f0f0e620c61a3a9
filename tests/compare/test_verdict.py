import json

from seqlab.compare.results import load_results, write_results
from seqlab.compare.verdict import verdict, wins_by_contender


def by_criterion(results):
    return {row.criterion: row for row in verdict(results)}


def test_verdict_reads_the_numbers(results):
    rows = by_criterion(results)
    assert rows["quality"].winners == ("s2s_luong",)  # lowest PER
    assert rows["quality"].runner_up == "s2s_none"
    assert rows["parameters"].winners == ("lm_sep",)
    assert rows["decode_speed"].winners == ("s2s_none",)
    assert rows["long_sources"].winners == ("s2s_luong",)
    assert rows["train_time"].winners == ("lm_sep", "s2s_none", "s2s_luong")  # all 60 s: a tie
    assert rows["train_time"].margin == "tie"


def test_editing_a_number_in_results_json_changes_the_verdict(results, tmp_path):
    path = write_results(results, tmp_path / "results.json")
    before = by_criterion(load_results(path))
    assert before["quality"].winners == ("s2s_luong",)
    edited = json.loads(path.read_text(encoding="utf-8"))
    edited["contenders"][0]["quality"] = 5.0  # lm_sep now has the lowest error rate
    edited["contenders"][2]["memory"]["peak_mb"] = 100.0
    path.write_text(json.dumps(edited), encoding="utf-8")
    after = by_criterion(load_results(path))
    assert after["quality"].winners == ("lm_sep",)
    assert after["quality"].runner_up == "s2s_luong"
    assert before["memory"].winners != after["memory"].winners
    assert after["memory"].winners == ("s2s_luong",)


def test_direction_follows_the_metric(results):
    results["metric"] = {"name": "bleu", "mode": "max", "label": "BLEU"}
    assert by_criterion(results)["quality"].winners == ("lm_sep",)  # highest score now wins


def test_length_ratio_is_judged_by_distance_from_one(results):
    ratios = {"lm_sep": 1.3, "s2s_none": 0.8, "s2s_luong": 1.1}
    for contender in results["contenders"]:
        contender["repetition"]["plain"]["length_ratio"] = ratios[contender["name"]]
    assert by_criterion(results)["length_ratio"].winners == ("s2s_luong",)


def test_unmeasured_numbers_are_left_out_and_wall_clock_budget_drops_train_time(results):
    for contender in results["contenders"]:
        contender["memory"]["peak_mb"] = None
    results["budget"]["kind"] = "minutes"
    rows = by_criterion(results)
    assert "memory" not in rows
    assert "train_time" not in rows
    wins = wins_by_contender(verdict(results))
    assert "quality" in wins["s2s_luong"]
