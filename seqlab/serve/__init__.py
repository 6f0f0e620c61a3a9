"""``seqlab serve``: trained run directories over HTTP (FastAPI on uvicorn), with a web page.

- :func:`create_app` builds the app (``app.py``); :func:`serve` runs it and drains on SIGTERM
  (``runner.py``).
- ``settings.py``: limits and defaults; ``guard.py``: host, token, body size and UTF-8 checks before
  the app reads anything; ``batching.py``: the bounded queue that batches requests arriving together;
  ``operations.py``: each endpoint's checks and batched work; ``schemas.py``: request and response
  bodies; ``errors.py``: JSON errors; ``registry.py``: which models, loaded from where.
- ``static/``: the web page (plain HTML, JS and CSS; no build step).

Needs the ``serve`` extra: ``pip install seqlab[serve]``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ModelSpec", "ServeSettings", "create_app", "parse_model_specs", "serve"]

_HOMES = {
    "create_app": "seqlab.serve.app",
    "ModelSpec": "seqlab.serve.registry",
    "parse_model_specs": "seqlab.serve.registry",
    "serve": "seqlab.serve.runner",
    "ServeSettings": "seqlab.serve.settings",
}


def __getattr__(name: str) -> Any:
    """Import on first use: ``seqlab.serve.settings`` (which the CLI's --help reads) must not need
    FastAPI, which only the serve extra installs."""
    if name not in _HOMES:
        raise AttributeError(f"module 'seqlab.serve' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
