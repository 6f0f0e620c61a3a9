"""Fill the per-toolkit YAML templates in ``bench/peers/configs/`` for one benchmark run.

Each template holds the shared architecture; only paths, step counts, the seed, the thread count
and, for seqlab, the token budget and input feeding are substituted (``string.Template``: ``${name}``).
"""

from __future__ import annotations

from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parent / "configs"
TOOLKIT_TEMPLATE = {"joeynmt": "joeynmt.yaml", "opennmt": "opennmt.yaml", "seqlab": "seqlab.yaml"}


def write_config(toolkit: str, out: Path, **fields: object) -> Path:
    """Write ``configs/<toolkit>.yaml`` with ``fields`` substituted to ``out``; every field must be given."""
    text = (TEMPLATES / TOOLKIT_TEMPLATE[toolkit]).read_text(encoding="utf-8")
    values = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in fields.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(Template(text).substitute(values), encoding="utf-8")
    return out
