"""Test-suite settings shared by every folder.

Property tests (hypothesis) draw the same examples on every run by default (``derandomize``), so
`make test` and CI are reproducible: a failure seen once is seen again. To search new examples, run
with ``HYPOTHESIS_PROFILE=explore`` (random draws, examples that failed before replayed first).
"""

import os

from hypothesis import settings

settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
