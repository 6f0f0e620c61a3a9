"""Decoding values at the edges over HTTP (issue 14, item 5): numbers the schema once accepted and
sampling then crashed on (a 500) are refused with a 422 naming the field and its valid range, the
OpenAPI schema advertises the ranges, and a request whose processors ban every token gets a 200
with each output ended."""

from __future__ import annotations

import math

import httpx
import pytest
import tiny_runs
from serve_helpers import running, specs_for

from seqlab.ranges import COVERAGE_PENALTY, DIVERSITY_STRENGTH, REPETITION_PENALTY, TEMPERATURE, TOP_P


@pytest.fixture(scope="module")
def edge_server(tmp_path_factory):
    """The tiny language model (``lm``) and the tiny letter-reversal model (``s2s``)."""
    base = tmp_path_factory.getbasetemp() / "tiny_runs"  # shared with the other serving tests
    runs = {name: tiny_runs.train_tiny(name, base) for name in ("lm", "seq2seq")}
    with running(specs_for({"lm": runs["lm"], "s2s": runs["seq2seq"]})) as srv:
        yield srv


def post(server, op: str, body: dict) -> httpx.Response:
    model = "lm" if op == "generate" else "s2s"
    return httpx.post(f"{server.url}/models/{model}/{op}", json=body, timeout=120)


@pytest.mark.parametrize(
    ("op", "field", "value", "valid"),
    [
        ("generate", "temperature", 1e-320, TEMPERATURE),
        ("generate", "temperature", 1e308, TEMPERATURE),
        ("generate", "temperature", 0.001, TEMPERATURE),
        ("generate", "temperature", 1000, TEMPERATURE),
        ("generate", "repetition_penalty", 1e308, REPETITION_PENALTY),
        ("generate", "top_p", 1.5, TOP_P),
        ("translate", "temperature", 1e308, TEMPERATURE),
        ("translate", "temperature", 1e-320, TEMPERATURE),
        ("translate", "repetition_penalty", 1e308, REPETITION_PENALTY),
        ("translate", "coverage_penalty", 1e308, COVERAGE_PENALTY),
        ("translate", "diversity_strength", 1e308, DIVERSITY_STRENGTH),
        ("translate", "top_p", 0, TOP_P),
    ],
)
def test_an_extreme_value_is_422_naming_the_range(edge_server, op, field, value, valid):
    body = {"prompt": "the cat"} if op == "generate" else {"text": "a b c", "sampling": True}
    response = post(edge_server, op, {**body, field: value})
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["type"] == "invalid_request" and error["field"] == field
    assert valid.text in error["error"], error


def test_the_openapi_schema_advertises_the_ranges(edge_server):
    schemas = httpx.get(edge_server.url + "/openapi.json").json()["components"]["schemas"]
    for request, field, valid in [
        ("GenerateRequest", "temperature", TEMPERATURE),
        ("GenerateRequest", "repetition_penalty", REPETITION_PENALTY),
        ("TranslateRequest", "temperature", TEMPERATURE),
        ("TranslateRequest", "coverage_penalty", COVERAGE_PENALTY),
        ("TranslateRequest", "top_p", TOP_P),
    ]:
        spec = schemas[request]["properties"][field]
        number = next((s for s in spec.get("anyOf", [spec]) if s.get("type") == "number"), None)
        assert number is not None, spec
        assert {k: number[k] for k in valid.json_schema()} == valid.json_schema(), (request, field)


@pytest.mark.parametrize(
    "controls",
    [{"greedy": True}, {}, {"temperature": 0.01}, {"temperature": 100, "top_p": 0.5}, {"top_k": 2}],
)
def test_generate_with_every_token_banned_ends_the_output(edge_server, controls):
    # unigram blocking over 256 tokens: the tiny vocabulary (about 60 words) runs out long before
    body = {"prompt": "the", "max_tokens": 256, "no_repeat_ngram": 1, "seed": 1, "num_samples": 2}
    response = post(edge_server, "generate", {**body, **controls})
    assert response.status_code == 200, response.text
    for text in response.json()["texts"]:
        words = text.split()
        assert len(words) == len(set(words)) and len(words) < 256, text


@pytest.mark.parametrize(
    "controls",
    [
        {"beam_size": 1},
        {"beam_size": 3, "n_best": 3},
        {"sampling": True, "seed": 0},
        {"sampling": True, "seed": 0, "temperature": 0.01},
        {"sampling": True, "seed": 0, "temperature": 100},
    ],
)
def test_translate_with_every_token_banned_ends_each_hypothesis(edge_server, controls):
    # unigram blocking and a minimum length above the target vocabulary (a few letters): every
    # hypothesis runs out of tokens and must end with a finite score (replace_unk off: it would
    # repeat a source letter in place of the one <unk>)
    body = {"texts": ["a b c", "x y"], "no_repeat_ngram": 1, "min_length": 100, "max_length": 200,
            "max_length_ratio": 100.0, "replace_unk": False}  # fmt: skip
    response = post(edge_server, "translate", {**body, **controls})
    assert response.status_code == 200, response.text
    for result in response.json()["results"]:
        assert len(result["tokens"]) == len(set(result["tokens"])) and len(result["tokens"]) < 100
        assert all(h["score"] is not None and math.isfinite(h["score"]) for h in result["n_best"])
        assert result["score"] is not None and math.isfinite(result["score"])
