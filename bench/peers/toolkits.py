"""The benchmark's variants: how each toolkit is configured, trained, decoded and its logs read.

Every command is run through ``launch.py THREADS MODULE ...`` (torch.set_num_threads before the
toolkit starts): Joey NMT and OpenNMT-py from the peers' environment (``bench/peers/.venv``),
seqlab from the project's (``.venv``).

Training tokens/s are each toolkit's own per-window figures (target tokens, ``</s>`` included,
over the wall time of the window), one window every ``log_every`` steps:

- Joey NMT: ``Tokens per Sec`` of its ``Epoch ..., Step: N`` lines (validation time excluded; none
  runs here);
- OpenNMT-py: the second number of ``src/tgt tok/s`` in its ``Step N/M`` lines;
- seqlab: ``tokens_per_s`` of the ``train`` records of ``metrics.jsonl`` in the run directory.

Decoding time is each toolkit's own timing of its decoding loop over the 1,000 dev sentences (model
loading excluded, the loop's first batch included): Joey's ``Generation took S[sec]``, OpenNMT-py's
``Average translation time (ms)`` (x 1,000 sentences), seqlab's ``translate()`` call timed by
``seqlab_decode.py``. ``seqlab-int8`` trains nothing: it decodes the ``seqlab`` variant's model with
``--int8`` (int8 matrix products, ``seqlab.models.quantize``). ``seqlab-bf16`` trains the ``seqlab``
model under ``training.amp: bf16`` (torch's CPU autocast: bfloat16 products, float32 weights; fast only
on a CPU with AVX512-BF16 or AMX) and decodes it in float32.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from configs import write_config

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PEERS_PYTHON = HERE / ".venv" / "bin" / "python"
SEQLAB_PYTHON = Path(sys.executable)
LAUNCH = HERE / "launch.py"
MAX_OUTPUT = 60  # decoding length limit for all three (twice the longest target)


@dataclass(frozen=True)
class Variant:
    name: str  # row name in the table
    toolkit: str  # joeynmt | opennmt | seqlab
    input_feeding: bool = True
    int8: bool = False  # seqlab: decode with --int8
    amp: str = "none"  # seqlab: training.amp
    decodes: str | None = None  # decode this variant's trained model instead of training one

    @property
    def python(self) -> Path:
        return SEQLAB_PYTHON if self.toolkit == "seqlab" else PEERS_PYTHON


VARIANTS = {
    "seqlab": Variant("seqlab", "seqlab", True),
    "seqlab-fused": Variant("seqlab-fused", "seqlab", False),
    "seqlab-int8": Variant("seqlab-int8", "seqlab", True, int8=True, decodes="seqlab"),
    "seqlab-bf16": Variant("seqlab-bf16", "seqlab", True, amp="bf16"),
    "joeynmt": Variant("joeynmt", "joeynmt", True),
    "opennmt": Variant("opennmt", "opennmt", True),
}


@dataclass(frozen=True)
class TrainSpec:
    steps: int
    log_every: int
    seed: int
    threads: int
    data: Path
    max_tokens: int  # seqlab's padded-token budget (64 sentences per batch on average)
    onmt_workers: int


def train_command(v: Variant, run_dir: Path, spec: TrainSpec) -> list[str]:
    """Write the variant's config into ``run_dir`` and return the command that trains it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    head = [str(v.python), str(LAUNCH), str(spec.threads)]
    if v.toolkit == "joeynmt":
        cfg = joey_config(run_dir, spec, beam_size=5)
        return [*head, "joeynmt", "train", str(cfg), "--skip-test"]
    if v.toolkit == "opennmt":
        cfg = write_config(
            "opennmt",
            run_dir / "opennmt.yaml",
            model_dir=run_dir / "model",
            data=spec.data,
            steps=spec.steps,
            log_every=spec.log_every,
            seed=spec.seed,
            onmt_workers=spec.onmt_workers,
        )
        return [*head, "onmt.bin.train", "-config", str(cfg)]
    cfg = write_config(
        "seqlab",
        run_dir / "seqlab.yaml",
        data=spec.data,
        steps=spec.steps,
        log_every=spec.log_every,
        seed=spec.seed,
        threads=spec.threads,
        max_tokens=spec.max_tokens,
        input_feeding=v.input_feeding,
        amp=v.amp,
    )
    return [*head, "seqlab", "train", str(cfg), "--run-dir", str(run_dir / "run")]


def joey_config(run_dir: Path, spec: TrainSpec, beam_size: int) -> Path:
    name = "joeynmt.yaml" if beam_size == 5 else f"joeynmt_beam{beam_size}.yaml"
    return write_config(
        "joeynmt",
        run_dir / name,
        model_dir=run_dir / "model",
        data=spec.data,
        steps=spec.steps,
        log_every=spec.log_every,
        seed=spec.seed,
        beam_size=beam_size,
    )


JOEY_LINE = re.compile(r"Step:\s+(\d+), .*Tokens per Sec:\s+([\d.]+)")
ONMT_LINE = re.compile(r"Step\s+(\d+)/\s*\d+;.*?([\d.]+)/\s*([\d.]+) tok/s;")


def train_windows(v: Variant, run_dir: Path, log_text: str) -> list[tuple[int, float]]:
    """[(step at the end of the window, target tokens/s of the window)] in order."""
    if v.toolkit == "joeynmt":
        return [(int(m[1]), float(m[2])) for m in JOEY_LINE.finditer(log_text)]
    if v.toolkit == "opennmt":
        return [(int(m[1]), float(m[3])) for m in ONMT_LINE.finditer(log_text)]
    lines = (run_dir / "run" / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return [(int(r["step"]), float(r["tokens_per_s"])) for r in records if r.get("split") == "train"]


def decode_command(v: Variant, run_dir: Path, spec: TrainSpec, beam: int, out: Path) -> list[str]:
    """The command that decodes the 1,000 dev sources with beam ``beam`` (1 = greedy) into ``out``
    with the model trained in ``run_dir`` (another variant's, for one that ``decodes`` it)."""
    head = [str(v.python), str(LAUNCH), str(spec.threads)]
    src = spec.data / "dev.en"
    if v.toolkit == "joeynmt":
        cfg = joey_config(run_dir, spec, beam_size=beam)
        return [*head, "joeynmt", "test", str(cfg), "-o", str(out)]
    if v.toolkit == "opennmt":
        model = run_dir / "model" / f"model_step_{spec.steps}.pt"
        return [
            *head, "onmt.bin.translate", "-model", str(model), "-src", str(src), "-output", str(out),
            "-beam_size", str(beam), "-batch_size", "64", "-batch_type", "sents",
            "-max_length", str(MAX_OUTPUT), "-min_length", "0", "-length_penalty", "none",
            "-n_best", "1", "-report_time", "-gpu", "-1", "-seed", str(spec.seed),
        ]  # fmt: skip
    return [
        *head, str(HERE / "seqlab_decode.py"), "--run-dir", str(run_dir / "run"), "--src", str(src),
        "--out", str(out), "--beam", str(beam), "--max-length", str(MAX_OUTPUT),
        "--threads", str(spec.threads), *(["--int8"] if v.int8 else []),
    ]  # fmt: skip


def hypotheses_path(v: Variant, out: Path) -> Path:
    return out.with_name(out.name + ".dev") if v.toolkit == "joeynmt" else out


def decode_seconds(v: Variant, log_text: str, sentences: int) -> float:
    """The toolkit's own time for the decoding loop, parsed from its log."""
    if v.toolkit == "joeynmt":
        found = re.findall(r"Generation took ([\d.]+)\[sec\]", log_text)
        if found:
            return float(found[-1])
    elif v.toolkit == "opennmt":
        found = re.findall(r"Average translation time \(ms\): ([\d.]+)", log_text)
        if found:
            return float(found[-1]) * sentences / 1000.0
    else:
        found = re.findall(r"DECODE_SECONDS ([\d.]+)", log_text)
        if found:
            return float(found[-1])
    raise RuntimeError(f"{v.name}: no decoding time in its log")
