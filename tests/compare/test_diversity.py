"""The comparison's diversity figures: measured per decoding, tabled per contender (plain and with
n-gram blocking), ``-`` for results written before they existed, and carried into both reports."""

from __future__ import annotations

import pytest
from synthetic_results import contender, make_results

from seqlab.compare.diversity import diversity_block, diversity_table
from seqlab.compare.report import write_report


def test_the_block_holds_distinct_1_2_and_the_top_10_share():
    outputs = [["i", "don't", "know"]] * 3 + [["sure"]]
    block = diversity_block(outputs)
    assert block["distinct1"] == pytest.approx(100 * 4 / 10)  # i, don't, know, sure of 10 tokens
    assert block["distinct2"] == pytest.approx(100 * 2 / 6)
    assert block["frequent_share"] == pytest.approx(100.0)


def with_diversity(results: dict, name: str, plain: dict, blocked: dict | None) -> dict:
    for c in results["contenders"]:
        if c["name"] == name:
            c["repetition"]["plain"].update(plain)
            if blocked is not None:
                c["repetition"]["blocked"].update(blocked)
    return results


def test_the_table_has_plain_and_blocked_columns_and_dashes_for_old_results():
    results = make_results()
    dull = {"distinct1": 1.5, "distinct2": 2.25, "frequent_share": 80.0}
    varied = {"distinct1": 20.0, "distinct2": 45.5, "frequent_share": 12.0}
    with_diversity(results, "s2s_none", dull, varied)
    header, rows = diversity_table(results)
    assert header == [
        "contender", "distinct-1", "distinct-2", "top-10 outputs",
        "distinct-1, block 2", "distinct-2, block 2", "top-10 outputs, block 2",
    ]  # fmt: skip
    by_name = {row[0]: row[1:] for row in rows}
    assert by_name["s2s_none"] == ["1.50%", "2.25%", "80.00%", "20.00%", "45.50%", "12.00%"]
    assert by_name["lm_sep"] == ["-"] * 6  # written before the diversity figures existed


def test_without_blocking_only_the_plain_columns():
    results = make_results()
    results["contenders"] = [
        contender("a", 1.0, repetition={"n": 2, "plain": {"distinct1": 5.0}, "blocked": None})
    ]
    header, rows = diversity_table(results)
    assert header == ["contender", "distinct-1", "distinct-2", "top-10 outputs"]
    assert rows == [["a", "5.00%", "-", "-"]]


def test_both_reports_carry_the_diversity_table(tmp_path):
    results = with_diversity(make_results(), "s2s_luong", {"distinct2": 33.33}, None)
    markdown, page = write_report(results, tmp_path)
    text = markdown.read_text(encoding="utf-8")
    section = text.split("## Repetition and length")[1].split("## Training curves")[0]
    assert "| contender | distinct-1 | distinct-2 | top-10 outputs |" in section and "33.33%" in section
    assert "distinct-n is the number of different n-grams" in text
    assert "top-10 outputs, block 2" in page.read_text(encoding="utf-8")
