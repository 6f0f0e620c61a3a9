"""The valid ranges of the real-valued decoding controls, each defined once.

The logits processors and penalties check their arguments against these in ``__init__``, the config
loader checks the ``decoding`` section with them, the server's request schema advertises them in
OpenAPI (and answers 422 naming the range), and the command line's help shows them.

Why these bounds: scores are float32 (largest finite value about 3.4e38), and a Python float is
rounded to float32 when it meets a float32 tensor, so 1e308 becomes ``inf`` and 1e-320 becomes 0.
Then ``logit / inf`` is 0 for every allowed token and NaN for a banned one (``-inf / inf``),
``0 * inf`` is NaN, and ``logit / 0`` is ``+-inf``: sampling draws from NaN. Within the bounds
below every such product stays finite for any finite logit, and the bounds are far wider than any
useful setting:

- ``temperature`` in [0.01, 100]: vLLM raises temperatures below 0.01 to 0.01 for the same reason
  (``_MAX_TEMP`` in ``vllm/sampling_params.py``); at 100 the logits of a trained model (a spread of a
  few tens) are within a factor e^0.3 of uniform, so higher values change nothing useful;
- ``top_p`` in (0, 1]: a probability mass (Hugging Face's ``TopPLogitsWarper`` uses the same);
- ``repetition_penalty`` in [1, 100]: 1 is off (CTRL, Keskar et al. 2019, used 1.2); at 100 a
  repeated token is as good as banned;
- ``coverage_penalty`` in [0, 100]: Wu et al. 2016 tuned beta in [0, 1] (0.2 was best);
- ``diversity_strength`` in [0, 100]: diverse beam search's lambda (Vijayakumar et al. 2018 found
  0.2 to 0.8 useful); at 100 a token an earlier group chose at the same step is as good as banned;
- ``mmi_lambda`` in [0, 100]: the anti-language-model weight of MMI reranking (Li et al. 2016 tuned
  it in [0, 1]); ``mmi_length_weight`` in [-100, 100]: a reward (or cost) per output token.

A value outside its range is a user error (``ConfigError`` naming the value and the range).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from seqlab.errors import ConfigError


def _number(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class NumberRange:
    """The real numbers from ``low`` to ``high`` (both included, ``low`` excluded if ``low_open``)."""

    low: float
    high: float
    low_open: bool = False

    @property
    def text(self) -> str:
        """The range for people, e.g. ``in [0.01, 100]`` or ``in (0, 1]``."""
        return f"in {'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}]"

    def contains(self, value: object) -> bool:
        """Whether ``value`` is a finite real number (not a bool) in the range."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def check(self, name: str, value: object) -> float:
        """``value`` as a float; outside the range, a ConfigError naming it, its value and the range."""
        if not self.contains(value):
            raise ConfigError(f"{name} = {value!r}: must be a number {self.text}")
        return float(value)  # type: ignore[arg-type]

    def json_schema(self) -> dict[str, float]:
        """The JSON Schema (OpenAPI 3.1) keywords of the range."""
        low = "exclusiveMinimum" if self.low_open else "minimum"
        return {low: self.low, "maximum": self.high}


TEMPERATURE = NumberRange(0.01, 100.0)
TOP_P = NumberRange(0.0, 1.0, low_open=True)
REPETITION_PENALTY = NumberRange(1.0, 100.0)
COVERAGE_PENALTY = NumberRange(0.0, 100.0)
DIVERSITY_STRENGTH = NumberRange(0.0, 100.0)
MMI_LAMBDA = NumberRange(0.0, 100.0)
MMI_LENGTH_WEIGHT = NumberRange(-100.0, 100.0)
