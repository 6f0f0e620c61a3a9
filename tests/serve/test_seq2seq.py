"""Translation over HTTP: the predictor's outputs, n-best lists and attention on request, batched
requests equal to alone, the decoding limits, and a copy-attention model writing a word no
vocabulary holds, with its p_gen on request."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest
from serve_helpers import run_async

import seqlab
from seqlab.serve import ServeSettings

TEXTS = ["a b c d", "e f g", "h i j k l", "m n", "o p q r s t", "u v w"]


def translate(server, body: dict) -> httpx.Response:
    return httpx.post(server.url + "/models/s2s/translate", json=body, timeout=60)


def test_models_lists_the_seq2seq_model(s2s_server):
    (model,) = httpx.get(s2s_server.url + "/models").json()["models"]
    assert model["family"] == "seq2seq"
    assert model["endpoints"] == ["translate", "chat", "encode"]
    assert model["config"]["decoding"]["beam_size"] == 3


def test_translation_with_n_best_and_attention_matches_the_predictor(s2s_server, seq2seq_run):
    body = {"text": "a b c d", "beam_size": 3, "n_best": 2, "return_attention": True}
    response = translate(s2s_server, body)
    assert response.status_code == 200, response.text
    (got,) = response.json()["results"]
    (expected,) = seqlab.load(seq2seq_run).translate("a b c d", beam_size=3, n_best=2, return_attention=True)
    assert got["text"] == expected.text and got["tokens"] == expected.tokens
    assert got["source_tokens"] == ["a", "b", "c", "d"]
    assert [h["text"] for h in got["n_best"]] == [text for text, _ in expected.n_best]
    assert got["score"] == pytest.approx(expected.score, abs=1e-5)
    attention = np.array(got["attention"])
    assert attention.shape == (len(got["tokens"]), 4)
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(attention, np.array(expected.attention), atol=1e-6)


def test_attention_only_on_request(s2s_server):
    (got,) = translate(s2s_server, {"text": "a b c"}).json()["results"]
    assert got["attention"] is None


def test_batched_requests_equal_translations_alone(s2s_server, seq2seq_run):
    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=s2s_server.url, timeout=60) as client:
            bodies = [{"text": t, "beam_size": 3} for t in TEXTS]
            return await asyncio.gather(*(client.post("/models/s2s/translate", json=b) for b in bodies))

    responses = run_async(send)
    alone = seqlab.load(seq2seq_run)
    for text, response in zip(TEXTS, responses):
        assert response.status_code == 200
        assert response.json()["results"][0]["text"] == alone.translate(text, beam_size=3)[0].text


def test_several_texts_in_one_request(s2s_server, seq2seq_run):
    response = translate(s2s_server, {"texts": TEXTS[:3], "beam_size": 1})
    expected = seqlab.load(seq2seq_run).translate(TEXTS[:3], beam_size=1)
    assert [r["text"] for r in response.json()["results"]] == [e.text for e in expected]


def test_decoding_limits_are_422_naming_the_field(s2s_server):
    limits = ServeSettings()
    for body, field in [
        ({"text": "a b", "beam_size": limits.max_beam_size + 1}, "beam_size"),
        ({"text": "a b", "beam_size": 2, "n_best": 3}, "n_best"),
        ({"text": "a b", "max_length": limits.max_output_tokens + 1}, "max_length"),
        ({"text": "a b", "max_length": 5, "min_length": 6}, "min_length"),
        ({"text": "a b", "beam_size": 0}, "beam_size"),
        ({"text": "a b", "length_penalty": "huge"}, "length_penalty"),
        ({"text": ""}, "text"),
    ]:
        response = translate(s2s_server, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field


def test_encode_gives_encoder_vectors(s2s_server, seq2seq_run):
    got = httpx.post(s2s_server.url + "/models/s2s/encode", json={"texts": TEXTS[:2]}).json()
    expected = seqlab.load(seq2seq_run).encode(TEXTS[:2])
    np.testing.assert_allclose(np.array(got["vectors"]), expected, atol=1e-5)


def test_diverse_beam_search_matches_the_predictor(s2s_server, seq2seq_run):
    body = {"text": "a b c d", "beam_size": 4, "n_best": 4, "diverse_groups": 2, "diversity_strength": 3.0}
    response = translate(s2s_server, body)
    assert response.status_code == 200, response.text
    (got,) = response.json()["results"]
    (expected,) = seqlab.load(seq2seq_run).translate(
        "a b c d", beam_size=4, n_best=4, diverse_groups=2, diversity_strength=3.0
    )
    assert [h["text"] for h in got["n_best"]] == [text for text, _ in expected.n_best]
    refused = translate(s2s_server, {"text": "a b", "beam_size": 4, "diverse_groups": 3})
    assert refused.status_code == 422 and "must divide beam_size = 4" in refused.text


def test_a_copy_model_over_http_copies_an_unseen_word_and_reports_p_gen(copy_server):
    text = "alpha beta zorblat gamma"
    body = {"text": text, "beam_size": 3, "return_attention": True}
    response = httpx.post(copy_server.url + "/models/copy/translate", json=body, timeout=60)
    assert response.status_code == 200, response.text
    (got,) = response.json()["results"]
    assert got["text"] == text
    assert len(got["p_gen"]) == len(got["tokens"]) == len(got["attention"])
    assert got["p_gen"][got["tokens"].index("zorblat")] < 0.5
    plain = httpx.post(copy_server.url + "/models/copy/translate", json={"text": text}, timeout=60)
    assert plain.json()["results"][0]["p_gen"] is None


def test_an_int8_server_says_so_and_answers_as_the_int8_predictor(seq2seq_run):
    from functools import partial

    from serve_helpers import running, specs_for

    with running(specs_for({"s2s": seq2seq_run}), loader=partial(seqlab.load, int8=True)) as srv:
        (model,) = httpx.get(srv.url + "/models").json()["models"]
        assert model["config"]["decoding"]["int8"] is True
        response = httpx.post(
            srv.url + "/models/s2s/translate", json={"texts": TEXTS, "beam_size": 3}, timeout=60
        )
        assert response.status_code == 200, response.text
        got = [r["text"] for r in response.json()["results"]]
    expected = seqlab.load(seq2seq_run, int8=True).translate(TEXTS, beam_size=3)
    assert got == [e.text for e in expected]
