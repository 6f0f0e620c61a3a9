"""``seqlab probe`` end to end with a tiny budget."""

from __future__ import annotations

import json

from seqlab.cli import main


def test_probe_writes_results_plot_and_summary(tmp_path, capsys):
    out = tmp_path / "probe"
    code = main(
        ["probe", "--cells", "rnn,lstm", "--lags", "3,6", "--tasks", "copy,adding", "--steps", "12",
         "--hidden", "8", "--seed", "1", "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    runs = {(r["task"], r["cell"], r["lag"]) for r in results["results"]}
    assert runs == {(t, c, lag) for t in ("copy", "adding") for c in ("rnn", "lstm") for lag in (3, 6)}
    assert set(results["failure_lags"]) == {"copy", "adding"}
    assert results["settings"]["steps"] == 12 and results["settings"]["seed"] == 1
    assert all(r["steps"] <= 12 for r in results["results"])
    assert (out / "probe.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "copy: lstm" in summary and "| rnn |" in summary
    printed = capsys.readouterr().out
    assert "copy: rnn" in printed and "results.json" in printed


def test_probe_rejects_bad_arguments_with_status_2(tmp_path, capsys):
    assert main(["probe", "--cells", "rnn,cnn", "-o", str(tmp_path)]) == 2
    assert "unknown cell 'cnn'" in capsys.readouterr().err
    assert main(["probe", "--lags", "5,x", "-o", str(tmp_path)]) == 2
    assert "comma-separated integers" in capsys.readouterr().err
