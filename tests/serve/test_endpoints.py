"""Each family's endpoints answer what the predictor answers; /models, OpenAPI and the page exist."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

import seqlab


def test_models_lists_each_model_with_family_endpoints_and_config(server):
    models = {m["name"]: m for m in httpx.get(server.url + "/models").json()["models"]}
    assert set(models) == {"lm", "classifier", "tagger"}
    assert models["lm"]["family"] == "language_model"
    assert models["lm"]["endpoints"] == ["generate", "next", "chat", "encode"]
    assert models["classifier"]["labels"] == ["food", "sport", "weather"]
    assert models["classifier"]["explain"] is True
    assert models["tagger"]["endpoints"] == ["tag", "encode"]
    assert all(m["ready"] for m in models.values())
    config = models["classifier"]["config"]
    assert config["model"]["pooling"] == "attention"
    assert "train" not in config["data"]  # file paths of the server's disk are left out


def test_classify_matches_the_predictor(server, runs):
    body = {"texts": ["the soup was hot", "the team won"], "explain": True}
    got = httpx.post(server.url + "/models/classifier/classify", json=body).json()["results"]
    expected = seqlab.load(runs["classifier"]).predict(body["texts"], explain=True)
    for g, e in zip(got, expected):
        assert g["label"] == e.label
        assert [p["label"] for p in g["probabilities"]] == list(e.probabilities)
        assert [a["token"] for a in g["attention"]] == e.tokens
        assert sum(a["weight"] for a in g["attention"]) == pytest.approx(1.0, abs=1e-5)


def test_tag_matches_the_predictor(server, runs):
    text = "Anna flew to Paris ."
    got = httpx.post(server.url + "/models/tagger/tag", json={"text": text}).json()["results"][0]
    expected = seqlab.load(runs["tagger"]).predict(text)
    assert [(t["token"], t["tag"]) for t in got["tokens"]] == expected


def test_generate_is_reproducible_with_a_seed_and_greedy_matches_the_predictor(server, runs):
    url = server.url + "/models/lm/generate"
    body = {"prompt": "the cat", "max_tokens": 8, "seed": 3, "num_samples": 2}
    first, second = (httpx.post(url, json=body).json()["texts"] for _ in range(2))
    assert first == second and len(first) == 2
    greedy = httpx.post(url, json={"prompt": "the cat", "max_tokens": 8, "greedy": True}).json()["texts"]
    assert greedy == seqlab.load(runs["lm"]).generate("the cat", 8, greedy=True)


def test_generate_beam_matches_the_predictor_and_refuses_sampling_controls(server, runs):
    url = server.url + "/models/lm/generate"
    body = {"prompt": "the cat", "max_tokens": 6, "beam_size": 3, "num_samples": 2}
    got = httpx.post(url, json=body)
    assert got.status_code == 200
    assert got.json()["texts"] == seqlab.load(runs["lm"]).generate("the cat", 6, beam_size=3, num_samples=2)
    for bad in ({"temperature": 0.5}, {"num_samples": 4}, {"beam_size": 1000}):
        response = httpx.post(url, json={**body, **bad})
        assert response.status_code == 422
        assert response.json()["field"] == "beam_size"


def test_next_token_distribution(server, runs):
    got = httpx.post(server.url + "/models/lm/next", json={"text": "the cat", "top_k": 5}).json()
    expected = seqlab.load(runs["lm"]).predict_next("the cat", top_k=5)
    assert [t["token"] for t in got["tokens"]] == [t for t, _ in expected]
    assert [t["probability"] for t in got["tokens"]] == pytest.approx([p for _, p in expected], abs=1e-6)


@pytest.mark.parametrize("name", ["lm", "classifier", "tagger"])
def test_encode_gives_the_predictors_vectors(server, runs, name):
    texts = ["the soup was hot", "Anna flew"]
    got = httpx.post(server.url + f"/models/{name}/encode", json={"texts": texts, "pool": "max"}).json()
    expected = seqlab.load(runs[name]).encode(texts, pool="max")
    assert got["size"] == expected.shape[1]
    np.testing.assert_allclose(np.array(got["vectors"]), expected, atol=1e-5)


def test_encode_with_attention_pooling_needs_an_attention_model(server):
    response = httpx.post(server.url + "/models/tagger/encode", json={"text": "a b", "pool": "attention"})
    assert response.status_code == 422 and response.json()["field"] == "pool"


def test_openapi_documents_every_endpoint_and_the_error_shape(server):
    schema = httpx.get(server.url + "/openapi.json").json()
    for op in ("classify", "tag", "generate", "next", "translate", "chat", "encode"):
        assert f"/models/{{name}}/{op}" in schema["paths"]
    classify = schema["paths"]["/models/{name}/classify"]["post"]
    assert {"413", "422", "429", "504"} <= set(classify["responses"])
    assert "ErrorResponse" in schema["components"]["schemas"]
    assert "/health/ready" in schema["paths"]


def test_no_get_changes_state(server):
    """GETs read; the POST-only operations refuse GET (405) and the counters do not move."""
    before = httpx.get(server.url + "/stats").json()["requests"]
    for path in ("/models/lm/generate", "/models/classifier/classify", "/models/tagger/tag"):
        assert httpx.get(server.url + path).status_code == 405
    assert httpx.get(server.url + "/stats").json()["requests"] == before


def test_the_page_and_its_assets_are_served_with_a_strict_policy(server):
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for asset in ("/static/app.js", "/static/style.css"):
        assert httpx.get(server.url + asset).status_code == 200
