"""Fill the per-toolkit YAML templates in ``bench/peers/configs/`` for one benchmark run.

Each template holds the shared architecture; only paths, step counts, the seed, the thread count
and, for seqlab, the token budget and input feeding are substituted (``string.Template``: ``${name}``).
The ``*-ttq*`` templates are the time-to-quality benchmark's (``time_to_quality.py``): there the
checkpoint interval, the wall-clock budget and (OpenNMT-py) the data files and embedding size are.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parent / "configs"
TOOLKIT_TEMPLATE = {
    "joeynmt": "joeynmt.yaml",
    "opennmt": "opennmt.yaml",
    "seqlab": "seqlab.yaml",
    # the time-to-quality benchmark (time_to_quality.py)
    "opennmt-ttq": "opennmt_ttq.yaml",
    "seqlab-ttq-g2p": "seqlab_ttq_g2p.yaml",
    "seqlab-ttq-multi30k": "seqlab_ttq_multi30k.yaml",
}


def write_config(toolkit: str, out: Path, **fields: object) -> Path:
    """Write ``configs/<toolkit>.yaml`` with ``fields`` substituted to ``out``; every field must be given."""
    text = (TEMPLATES / TOOLKIT_TEMPLATE[toolkit]).read_text(encoding="utf-8")
    values = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in fields.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(Template(text).substitute(values), encoding="utf-8")
    return out
