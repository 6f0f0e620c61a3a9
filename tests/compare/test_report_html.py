"""The HTML report renders in a real browser: every figure loads (headless Chromium).

Chromium is Debian's ``chromium`` package (``make test`` installs it); without it this test fails,
it does not skip. ``SEQLAB_CHROMIUM`` may point at another Chromium binary.
"""

import json
import os
import shutil
from pathlib import Path

from synthetic_results import make_results

from seqlab.compare.report import terminal_report, write_report

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    path = os.environ.get("SEQLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(path).is_file(), (
        f"Chromium not found at {path}: install Debian's chromium package (apt-get install chromium), "
        "as `make test` does, or set SEQLAB_CHROMIUM"
    )
    return path


def write_metrics(run_dir: Path, scale: float) -> None:
    run_dir.mkdir(parents=True)
    records = [
        {"split": "train", "step": s, "loss": scale / s, "elapsed_s": s / 10} for s in range(10, 110, 10)
    ]
    records += [
        {"split": "valid", "step": s, "loss": scale / s + 0.1, "elapsed_s": s / 10} for s in (50, 100)
    ]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def attention_example(source: str, output: list[str]) -> dict:
    weights = [[1.0 / len(source)] * len(source) for _ in output]
    return {"source_tokens": list(source), "output_tokens": output, "weights": weights}


def image_states(html_path: Path) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(html_path.resolve().as_uri())
            page.wait_for_load_state("load")
            return page.evaluate(
                "Array.from(document.images).map(i => ({src: i.src.slice(0, 40), alt: i.alt,"
                " complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))"
            )
        finally:
            browser.close()


def test_every_figure_of_the_html_report_loads_in_chromium(tmp_path):
    chromium_path()  # fail early and clearly when the browser is missing
    results = make_results()
    for index, contender in enumerate(results["contenders"]):
        write_metrics(tmp_path / contender["run_dir"], scale=3.0 + index)
    results["contenders"][2]["attention_examples"] = [
        attention_example("cat", ["K", "AE", "T", "<eos>"]),
        attention_example("dog", ["D", "AO", "G", "<eos>"]),
    ]
    markdown, page = write_report(results, tmp_path)
    # moved away from its figures folder, the page still shows every figure: it is self-contained
    alone = tmp_path / "elsewhere" / "report.html"
    alone.parent.mkdir()
    page.replace(alone)
    shutil.rmtree(tmp_path / "figures")
    images = image_states(alone)
    # quality by length, training curves, two attention heatmaps
    assert len(images) == 4, images
    broken = [image for image in images if not (image["complete"] and image["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"
    assert all(image["src"].startswith("data:image/png;base64,") for image in images)
    text = markdown.read_text(encoding="utf-8")
    assert "figures/quality_by_length.png" in text and "## Verdict" in text


def test_a_broken_image_is_caught(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<html><body><img src="missing.png" alt="x"></body></html>', encoding="utf-8")
    images = image_states(page)
    assert images[0]["width"] == 0


def test_terminal_table_lists_every_contender_and_the_verdict():
    text = terminal_report(make_results())
    for name in ("lm_sep", "s2s_none", "s2s_luong"):
        assert name in text
    assert "verdict" in text and "quality (PER %)" in text
