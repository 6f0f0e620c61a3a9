"""schemathesis against the server's own OpenAPI schema, over a real socket: at least 500 generated
requests per endpoint that takes input (valid and invalid bodies, odd strings, numbers at the edges),
on a server holding one tiny model of each family. No answer may be a 5xx, and every answer must
match the schema (status code, content type, body).

Path parameter ``name``: nine cases in ten name the model of the operation's family (so the model
really runs), the tenth whatever schemathesis makes up (404 paths). Operations without inputs have
a single distinct case. About 40 s on two cores.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_helpers import running, specs_for

from seqlab.serve import ServeSettings, create_app

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CASES = 500
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODEL_FOR = {
    "generate": "lm",
    "next": "lm",
    "classify": "classifier",
    "tag": "tagger",
    "translate": "s2s",
    "chat": "s2s",
}
# the request defaults (max_tokens 50; beam 3 in the seq2seq recipe) within the limits, so valid
# requests reach the models
LIMITS = ServeSettings(
    max_input_tokens=64,
    max_output_tokens=50,
    max_beam_size=4,
    max_batch_size=4,
    batch_wait_ms=0,
    queue_size=64,
)
cases: dict[str, tuple[int, float, dict[int, int]]] = {}


@pytest.fixture(scope="module")
def served(runs, seq2seq_run):
    with running(specs_for({**runs, "s2s": seq2seq_run}), LIMITS) as srv:
        yield srv


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


@pytest.fixture(scope="module")
def api_schema(served):
    return schemathesis.openapi.from_url(served.url + "/openapi.json")


def endpoints() -> list[tuple[str, str]]:
    """Every operation of the schema (a model-less app has the same routes)."""
    paths = create_app([]).openapi()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


def model_name(path: str) -> str:
    """The served model of the operation's family (any served model for the generic ones)."""
    op = path.rsplit("/", 1)[-1]
    models = ("lm", "classifier", "tagger", "s2s")
    return MODEL_FOR.get(op, models[zlib.crc32(path.encode()) % len(models)])


def strategy(operation):
    """Six cases in ten: valid requests naming the model of the operation's family; three: invalid
    ones (schemathesis' negative mode) naming it; one: valid ones naming whatever schemathesis makes up."""
    both = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if "{name}" not in operation.path:
        return st.one_of(*(operation.as_strategy(mode) for mode in both))
    named = {"name": model_name(operation.path)}
    valid, invalid = (operation.as_strategy(mode, path_parameters=named) for mode in both)
    anyone = operation.as_strategy(GenerationMode.POSITIVE)
    return st.integers(0, 9).flatmap(lambda i: valid if i < 6 else invalid if i < 9 else anyone)


ENDPOINTS = endpoints()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
def test_every_generated_request_gets_a_documented_answer(method, path, api_schema, session):
    operation = api_schema[path][method]
    count, statuses = 0, Counter()

    @given(case=strategy(operation))
    @settings(
        max_examples=CASES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case) -> None:
        nonlocal count
        count += 1
        response = case.call_and_validate(session=session, checks=CHECKS)
        statuses[response.status_code] += 1

    start = time.monotonic()
    check()
    cases[f"{method} {path}"] = (count, time.monotonic() - start, dict(sorted(statuses.items())))
    if "{name}" in path:
        assert count >= CASES, count


def test_report_cases_per_endpoint():
    """Prints what each endpoint got (after the schemathesis tests, in the same session)."""
    if not cases:
        pytest.skip("the schemathesis tests did not run in this session")
    print("\nschemathesis cases per endpoint (count, seconds, answers by status):")
    for endpoint, (count, seconds, statuses) in sorted(cases.items()):
        print(f"  {count:6d} {seconds:6.1f} s  {endpoint}  {statuses}")
