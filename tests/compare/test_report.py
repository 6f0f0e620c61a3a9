import pytest
from synthetic_results import contender, make_results, two_contenders

from seqlab.compare.report import budget_table, main_table, seeds_table, terminal_report, write_report
from seqlab.compare.verdict import length_changes, length_note


def buckets(*scores):
    labels = [("0-4", 0, 4, 80), ("5-10", 5, 10, 70), ("11+", 11, None, 50)]
    return [
        {"low": low, "high": high, "label": label, "count": count, "score": score}
        for (label, low, high, count), score in zip(labels, scores)
    ]


def test_length_note_states_each_contenders_change_both_ways(results):
    results["contenders"] = [
        contender("s2s_none", 20.0, by_length=buckets(8.1, 15.0, 31.0)),  # degrades with length
        contender("s2s_luong", 10.0, by_length=buckets(9.0, 8.0, 8.6)),  # does not
    ]
    changes = length_changes(results)
    assert changes["s2s_none"].change == pytest.approx(22.9)
    assert changes["s2s_luong"].change == pytest.approx(-0.4)
    note = length_note(results)
    assert "from sources of 0-4 tokens (80 pairs) to 11+ tokens (50 pairs)" in note
    assert "s2s_none: 8.1 -> 31.0 (+22.9 points, worse)" in note
    assert "s2s_luong: 9.0 -> 8.6 (-0.4 points, better)" in note
    assert "bottleneck" not in note  # no claim the numbers do not make


def test_length_note_follows_the_metric_direction_and_missing_buckets(results):
    results["metric"] = {"name": "bleu", "mode": "max", "label": "BLEU"}
    results["contenders"] = [
        contender("s2s_none", 20.0, by_length=buckets(30.0, 20.0, 10.0)),
        contender("s2s_luong", 30.0, by_length=buckets(30.0, None, 30.0)),
        contender("lm_sep", 30.0, by_length=buckets(30.0, None, None)),
    ]
    note = length_note(results)
    assert note.startswith("BLEU (higher is better)")
    assert "s2s_none: 30.0 -> 10.0 (-20.0 points, worse)" in note
    assert "s2s_luong: 30.0 -> 30.0 (+0.0 points, unchanged)" in note
    assert "lm_sep: fewer than two length buckets with pairs" in note


def test_budget_table_shows_steps_epochs_target_tokens_and_the_lm_loss(results):
    results["contenders"][0]["lm_loss"] = "target"
    results["contenders"][0]["train"].update(epochs=3, target_tokens=123_456)
    header, rows = budget_table(results)
    assert header == ["contender", "steps", "epochs", "target tokens", "stopped by", "LM loss on"]
    assert rows[0] == ["lm_sep", "500", "3", "123,456", "-", "target only"]
    # older results.json: no epochs, target_tokens or lm_loss -> unknown, not an error
    assert rows[1] == ["s2s_none", "500", "-", "-", "-", "-"]
    text = terminal_report(results)
    assert "budget used:" in text and "123,456" in text and "target only" in text


def test_seeds_give_mean_and_spread(results):
    results["seeds"] = [1, 2, 3]
    for index, c in enumerate(results["contenders"]):
        c["seed_runs"] = [
            {
                "seed": s,
                "quality": c["quality"] + d,
                "metrics": {"exact_match": 50.0 + d},
                "train": {"steps": 500},
            }
            for s, d in zip((1, 2, 3), (-1.0, 0.0, 1.0 + index))
        ]
    header, rows = main_table(results)
    assert header[1] == "PER % (mean ± sd, 3 seeds)"
    assert rows[0][1] == "30.0 ± 1.0"  # lm_sep: 29, 30, 31
    header, rows = seeds_table(results)
    assert header == ["contender", "metric", "seed 1", "seed 2", "seed 3", "mean", "sd", "min-max"]
    assert rows[0] == ["lm_sep", "PER %", "29.0", "30.0", "31.0", "30.0", "1.0", "29.0-31.0"]
    assert len(budget_table(results)[1]) == 9  # one row per contender and seed
    assert "lm_sep (seed 2)" in terminal_report(results)


def test_report_files_carry_the_new_sections(tmp_path):
    results = two_contenders([2] * 100, [0] * 100, [5] * 100)
    markdown, page = write_report(results, tmp_path)
    text = markdown.read_text(encoding="utf-8")
    assert "## Budget used" in text and "## Seeds" not in text
    assert "95% paired-bootstrap interval" in text and "the interval excludes 0" in text
    assert "PER % (lower is better) from sources of 0-4 tokens" in text
    assert "paired-bootstrap" in page.read_text(encoding="utf-8")
    old = make_results()  # results from before the bootstrap: the report says why there is no interval
    markdown, _ = write_report(old, tmp_path)
    assert "no bootstrap interval (s2s_luong (seed 1) has no per-example statistics" in markdown.read_text(
        encoding="utf-8"
    )
