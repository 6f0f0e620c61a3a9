"""The comparison report: ``report.md``, a self-contained ``report.html`` (figures embedded as PNG data
URIs, so the one file opens from disk anywhere), the PNG files under ``figures/``, and the table
printed in the terminal. Everything is computed from ``results.json`` and each run's
``metrics.jsonl``; the verdict comes from :mod:`seqlab.compare.verdict`."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab.compare import diversity
from seqlab.compare.figures import quality_by_length_png, read_metrics_log, training_curves_png
from seqlab.compare.results import seed_values
from seqlab.compare.spec import METRIC_LABELS
from seqlab.compare.verdict import VerdictRow, interval_note, length_note, verdict
from seqlab.rundir.files import atomic_write_bytes
from seqlab.rundir.names import METRICS_FILE

FIGURES_DIR = "figures"


@dataclass(frozen=True)
class Figure:
    path: Path  # the PNG file
    caption: str


# ---------------------------------------------------------------------------------------------
# Number formatting and tables
# ---------------------------------------------------------------------------------------------


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: ``-`` when missing, thousands grouped, ``digits`` significant figures."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (abs(value) >= 1000 and float(value).is_integer()):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:.{max(digits - 2, 1)}f}"


def _mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1; 0 for one value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def _seeded(contender: dict[str, Any], metric: str | None) -> str:
    """A quality cell: the value, or ``mean ± sd`` over the contender's seeds."""
    if not contender.get("seed_runs"):
        value = contender["quality"] if metric is None else contender.get("metrics", {}).get(metric)
        return fmt(value)
    values = seed_values(contender, metric)
    if not values:
        return "-"
    mean, sd = _mean_sd(values)
    return f"{fmt(mean)} ± {fmt(sd)}"


def _seed_count(results: dict[str, Any]) -> int:
    return len(results.get("seeds") or []) or 1


def main_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-contender table (quality, size, speed, memory). With seeds the
    quality columns give mean ± sample standard deviation over the seeds, the others the first seed."""
    metric = results["metric"]
    label = METRIC_LABELS.get(metric["name"], metric["name"])
    extras = results.get("extra_metrics", [])
    seeds = _seed_count(results)
    suffix = f" (mean ± sd, {seeds} seeds)" if seeds > 1 else ""
    header = ["contender", label + suffix, *(METRIC_LABELS.get(m, m) + suffix for m in extras)]
    header += ["params", "train s", "train tgt tok/s", "decode sent/s", "peak MB"]
    rows = []
    for c in results["contenders"]:
        row = [c["name"], _seeded(c, None), *(_seeded(c, m) for m in extras)]
        row += [
            fmt(c["parameters"]),
            fmt(c["train"].get("wall_s")),
            fmt(c["train"].get("target_tokens_per_s")),
            fmt(c["decode"].get("sentences_per_s")),
            fmt(c["memory"].get("peak_mb")),
        ]
        rows.append(row)
    return header, rows


def budget_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """What each contender's run used of the budget: steps, epochs, target tokens taught, why it
    stopped, and which tokens a language model's loss scored (one row per seed with seeds)."""
    header = ["contender", "steps", "epochs", "target tokens", "stopped by", "LM loss on"]
    rows = []
    for c in results["contenders"]:
        runs = c.get("seed_runs") or [c]
        for run in runs:
            train = run.get("train") or {}
            name = c["name"] if not c.get("seed_runs") else f"{c['name']} (seed {run.get('seed')})"
            loss = c.get("lm_loss") if c.get("kind") == "lm_sep" else None
            rows.append(
                [
                    name,
                    fmt(train.get("steps")),
                    fmt(train.get("epochs")),
                    fmt(train.get("target_tokens")),
                    fmt(train.get("stop_reason")),
                    {"all": "all tokens", "target": "target only"}.get(loss, fmt(loss)),
                ]
            )
    return header, rows


def seeds_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Each metric of each contender in every seed's run, with mean, sample sd and min-max."""
    seeds = results.get("seeds") or []
    metric = results["metric"]["name"]
    header = ["contender", "metric", *(f"seed {s}" for s in seeds), "mean", "sd", "min-max"]
    rows = []
    for c in results["contenders"]:
        for name in (None, *results.get("extra_metrics", [])):
            runs = c.get("seed_runs") or []
            values = seed_values(c, name)
            cells = [(r.get("quality") if name is None else (r.get("metrics") or {}).get(name)) for r in runs]
            mean, sd = _mean_sd(values) if values else (None, None)
            spread = f"{fmt(min(values))}-{fmt(max(values))}" if values else "-"
            label = METRIC_LABELS.get(name or metric, name or metric)
            rows.append([c["name"], label, *(fmt(v) for v in cells), fmt(mean), fmt(sd), spread])
    return header, rows


def _interval_cell(row: VerdictRow) -> str:
    interval = row.interval
    if interval is None:
        return ""
    if interval.low is None or interval.high is None or interval.difference is None:
        return "-"
    return f"{interval.difference:+.2f} [{interval.low:+.2f}, {interval.high:+.2f}]"


def _winner_cell(row: VerdictRow) -> str:
    """The winner(s); "no clear winner (... ahead)" when the quality interval spans zero."""
    if len(row.winners) > 1:
        names = " = ".join(row.winners) + " (tie)"
        return names if row.clear else f"no clear winner ({names})"
    return row.winners[0] if row.clear else f"no clear winner ({row.winners[0]} ahead)"


def verdict_table(rows: list[VerdictRow]) -> tuple[list[str], list[list[str]]]:
    """The verdict; the quality row's last cell is its bootstrap: ``winner - runner-up`` and the
    95% interval (``-``: no interval, see the note below the table)."""
    header = ["criterion", "winner", "value", "runner-up", "value", "margin", "difference, 95% interval"]
    body = [
        [
            row.label,
            _winner_cell(row),
            fmt(row.best),
            row.runner_up or "-",
            fmt(row.runner_up_value),
            row.margin,
            _interval_cell(row),
        ]
        for row in rows
    ]
    return header, body


def repetition_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Repeated-n-gram rate, length ratio and quality, without and with n-gram blocking."""
    label = METRIC_LABELS.get(results["metric"]["name"], results["metric"]["name"])
    first = next((c["repetition"] for c in results["contenders"] if c.get("repetition")), {})
    n = first.get("n", "?")
    blocked_n = next(
        (
            c["repetition"]["blocked"]["no_repeat_ngram"]
            for c in results["contenders"]
            if c["repetition"].get("blocked")
        ),
        None,
    )
    header = ["contender", f"repeated {n}-grams", "length ratio", label]
    if blocked_n:
        header += [f"repeated {n}-grams, block {blocked_n}", "length ratio, blocked", f"{label}, blocked"]
    rows = []
    for c in results["contenders"]:
        plain, blocked = c["repetition"].get("plain", {}), c["repetition"].get("blocked")
        row = [
            c["name"],
            _percent(plain.get("repeated_ngram_rate")),
            fmt(plain.get("length_ratio")),
            fmt(plain.get("quality")),
        ]
        if blocked_n:
            blocked = blocked or {}
            row += [
                _percent(blocked.get("repeated_ngram_rate")),
                fmt(blocked.get("length_ratio")),
                fmt(blocked.get("quality")),
            ]
        rows.append(row)
    return header, rows


def length_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    contenders = results["contenders"]
    buckets = next((c["by_length"] for c in contenders if c.get("by_length")), [])
    header = ["source length", "pairs", *(c["name"] for c in contenders)]
    rows = []
    for index, bucket in enumerate(buckets):
        scores = [
            c["by_length"][index].get("score") if index < len(c["by_length"]) else None for c in contenders
        ]
        rows.append([bucket["label"], fmt(bucket["count"]), *(fmt(s) for s in scores)])
    return header, rows


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """Aligned plain-text columns (the terminal table): names left, numbers right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells: list[str]) -> str:
        parts = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    align = ["---"] + ["---:"] * (len(header) - 1)
    return "\n".join([line(header), line(align), *(line(r) for r in rows)])


def terminal_report(results: dict[str, Any]) -> str:
    """What ``seqlab compare`` (and ``seqlab demo``) prints: the main table, the budget each run
    used, and the verdict with the quality bootstrap."""
    rows = verdict(results)
    lines = [
        f"{results.get('title', 'comparison')}: {results.get('dataset', '?')}, "
        f"{results.get('eval_examples', '?')} held-out pairs, {_budget_text(results)}",
        "",
        text_table(*main_table(results)),
        "",
        "budget used:",
        text_table(*budget_table(results)),
        "",
        "verdict (computed from results.json):",
        text_table(*verdict_table(rows)),
    ]
    note = interval_note(results, rows)
    return "\n".join(lines + ([note] if note else []))


def _budget_text(results: dict[str, Any]) -> str:
    budget = results.get("budget", {})
    parts = []
    if budget.get("max_steps"):
        parts.append(f"{budget['max_steps']} steps")
    if budget.get("max_minutes"):
        parts.append(f"{budget['max_minutes']:g} min")
    if budget.get("max_target_tokens"):
        parts.append(f"{budget['max_target_tokens']:,} target tokens")
    text = "budget " + " or ".join(parts) if parts else "no budget"
    if budget.get("max_parameters"):
        text += f", at most {budget['max_parameters']:,} parameters"
    seeds = results.get("seeds") or []
    return text + " each" + (f", trained once per seed ({', '.join(map(str, seeds))})" if seeds else "")


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def draw_figures(results: dict[str, Any], report_dir: Path) -> dict[str, list[Figure]]:
    """Every PNG of the report, under ``report_dir/figures``; grouped by section."""
    figures_dir = report_dir / FIGURES_DIR
    contenders = results["contenders"]
    groups: dict[str, list[Figure]] = {"length": [], "curves": [], "attention": []}
    if any(c.get("by_length") for c in contenders):
        path = quality_by_length_png(results, figures_dir / "quality_by_length.png")
        groups["length"].append(Figure(path, "Quality by source length (held-out pairs)"))
    curves = {
        c["name"]: read_metrics_log(report_dir / c.get("run_dir", "") / METRICS_FILE) for c in contenders
    }
    if any(curves.values()):
        path = training_curves_png(curves, figures_dir / "training_curves.png")
        groups["curves"].append(
            Figure(path, "Training and validation loss against training time (from each run's metrics.jsonl)")
        )
    for c in contenders:
        for index, example in enumerate(c.get("attention_examples") or []):
            path = figures_dir / f"attention_{c['name']}_{index + 1}.png"
            source = " ".join(example["source_tokens"])
            _attention_png(example, path, f"{c['name']}: {source}")
            groups["attention"].append(Figure(path, f"{c['name']}, example {index + 1}: {source}"))
    return groups


def _attention_png(example: dict[str, Any], path: Path, title: str) -> Path:
    from seqlab.plots import attention_png

    return attention_png(
        example["weights"], example["source_tokens"], example["output_tokens"], path, title=title
    )


# ---------------------------------------------------------------------------------------------
# report.md and report.html
# ---------------------------------------------------------------------------------------------


def _settings_lines(results: dict[str, Any]) -> list[str]:
    decoding = results.get("decoding", {})
    machine = results.get("machine", {})
    return [
        f"Dataset: {results.get('dataset')}; {results.get('eval_examples')} held-out pairs evaluated; "
        f"seed {results.get('seed')}; {_budget_text(results)}.",
        f"Decoding (same for every contender): beam {decoding.get('beam_size')}, length penalty "
        f"{decoding.get('length_penalty')} (alpha {decoding.get('alpha')}), "
        f"max length {decoding.get('max_length')}, "
        f"no-repeat n-gram {decoding.get('no_repeat_ngram') or 'off'}.",
        f"Machine: {machine.get('platform')}, {machine.get('cpus')} CPUs, torch {machine.get('torch')}"
        + (f", GPU {machine['cuda']}" if machine.get("cuda") else "")
        + f"; {results.get('parallel', 1)} contender(s) at a time, "
        f"{results.get('threads') or 'default'} thread(s) each.",
    ]


NOTES = [
    "Quality is the task's metric on the held-out pairs, decoded with the settings above.",
    "Training speed counts target-side tokens per second (the language model also reads the source and "
    "<sep>, which are not counted), so the figure is comparable across families.",
    "Peak memory is the peak resident set size (ru_maxrss) of the contender's own process over training "
    "and decoding, the Python and PyTorch runtime included (baseline_mb in results.json is that runtime "
    "alone); on a GPU it is torch.cuda.max_memory_allocated.",
    "The repetition table decodes once more with n-gram blocking (no_repeat_ngram) to show what it "
    "removes and what it costs.",
    diversity.NOTE,
    "The quality interval is a paired bootstrap: 1,000 resamples (seeded by the spec's seed) of the "
    "held-out pairs, the same draw for both contenders, each resample scored the way the corpus metric "
    "is (corpus BLEU/chrF recomputed by sacreBLEU from each sentence's statistics; edits over reference "
    "tokens for PER/WER; the mean of per-pair values for exact match and ROUGE-L); the 2.5th and 97.5th "
    "percentiles of winner minus runner-up. It covers the choice of held-out pairs, not training "
    "randomness: with seeds, each seed's pairs are resampled apart and the differences averaged, and the "
    "spread over seeds is in the seeds table.",
    "With seeds, quality columns are the mean ± sample standard deviation (n - 1) over the seeds; "
    "by length, repetition, speed, memory and examples are the first seed's run.",
]


def _examples_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    contenders = results["contenders"]
    first = contenders[0].get("examples") or []
    header = ["source", "reference", *(c["name"] for c in contenders)]
    rows = []
    for index, example in enumerate(first):
        outputs = [
            (c.get("examples") or [])[index]["output"] if index < len(c.get("examples") or []) else "-"
            for c in contenders
        ]
        rows.append([example["source"], example["reference"], *outputs])
    return header, rows


def write_markdown(results: dict[str, Any], figures: dict[str, list[Figure]], report_dir: Path) -> Path:
    def images(group: str) -> list[str]:
        return [f"![{f.caption}]({f.path.relative_to(report_dir).as_posix()})\n" for f in figures[group]]

    parts = [
        f"# {results.get('title', 'Comparison')}\n",
        *(line + "  " for line in _settings_lines(results)),
        "",
    ]
    rows = verdict(results)
    parts += ["## Results\n", markdown_table(*main_table(results)), ""]
    if results.get("seeds"):
        parts += ["## Seeds\n", markdown_table(*seeds_table(results)), ""]
    parts += ["## Budget used\n", markdown_table(*budget_table(results)), ""]
    parts += ["## Verdict\n", "Computed from results.json: the best contender on each criterion.\n"]
    parts += [markdown_table(*verdict_table(rows)), "", interval_note(results, rows), ""]
    parts += ["## Quality by source length\n", length_note(results) + "\n", *images("length")]
    parts += [markdown_table(*length_table(results)), ""]
    parts += ["## Repetition and length\n", markdown_table(*repetition_table(results)), ""]
    parts += [markdown_table(*diversity.diversity_table(results)), ""]
    parts += ["## Training curves\n", *images("curves")]
    if figures["attention"]:
        parts += ["## Attention\n", *images("attention")]
    parts += ["## Examples\n", markdown_table(*_examples_table(results)), ""]
    parts += ["## How it was measured\n", *(f"- {note}" for note in NOTES), ""]
    path = report_dir / "report.md"
    atomic_write_bytes(path, "\n".join(parts).encode("utf-8"))
    return path


def _html_table(header: list[str], rows: list[list[str]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    attribute = f' class="{css}"' if css else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_figure(figure: Figure) -> str:
    data = base64.b64encode(figure.path.read_bytes()).decode("ascii")
    caption = html.escape(figure.caption)
    image = f'<img src="data:image/png;base64,{data}" alt="{caption}">'
    return f"<figure>{image}<figcaption>{caption}</figcaption></figure>"


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:.6em 1em .6em 0;vertical-align:top}
figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
.settings{color:#444;font-size:.95em}table.text td,table.text th{text-align:left}
"""


def write_html(results: dict[str, Any], figures: dict[str, list[Figure]], report_dir: Path) -> Path:
    def section(title: str, *content: str) -> str:
        return f"<h2>{html.escape(title)}</h2>" + "".join(content)

    def images(group: str) -> str:
        return "".join(_html_figure(f) for f in figures[group])

    settings = "".join(f"<p class='settings'>{html.escape(line)}</p>" for line in _settings_lines(results))
    rows = verdict(results)
    body = [
        f"<h1>{html.escape(results.get('title', 'Comparison'))}</h1>",
        settings,
        section("Results", _html_table(*main_table(results))),
        section("Seeds", _html_table(*seeds_table(results))) if results.get("seeds") else "",
        section("Budget used", _html_table(*budget_table(results))),
        section(
            "Verdict",
            "<p>Computed from results.json: the best contender on each criterion.</p>",
            _html_table(*verdict_table(rows)),
            f"<p>{html.escape(interval_note(results, rows))}</p>",
        ),
        section(
            "Quality by source length",
            f"<p>{html.escape(length_note(results))}</p>",
            images("length"),
            _html_table(*length_table(results)),
        ),
        section(
            "Repetition and length",
            _html_table(*repetition_table(results)),
            _html_table(*diversity.diversity_table(results)),
        ),
        section("Training curves", images("curves")),
    ]
    if figures["attention"]:
        body.append(section("Attention", images("attention")))
    body.append(section("Examples", _html_table(*_examples_table(results), css="text")))
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in NOTES)
    body.append(section("How it was measured", f"<ul>{notes}</ul>"))
    title = html.escape(results.get("title", "Comparison"))
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
        f"<body>{''.join(body)}</body></html>\n"
    )
    path = report_dir / "report.html"
    atomic_write_bytes(path, page.encode("utf-8"))
    return path


def write_report(results: dict[str, Any], report_dir: str | Path) -> tuple[Path, Path]:
    """Draw the figures and write ``report.md`` and ``report.html`` into ``report_dir``."""
    report_dir = Path(report_dir)
    figures = draw_figures(results, report_dir)
    return write_markdown(results, figures, report_dir), write_html(results, figures, report_dir)
