"""Make the synthetic results (synthetic_results.py) importable from the comparison tests."""

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from synthetic_results import make_results  # noqa: E402


@pytest.fixture
def results():
    return make_results()
