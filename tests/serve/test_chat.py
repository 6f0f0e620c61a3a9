"""The chat endpoint: the client sends the conversation, the server answers its last turn from the
last k turns joined with the run's separator, as the predictor's translate / generate would; limits
and bad requests are 422s naming the field; a classifier has no chat (404)."""

from __future__ import annotations

import httpx
import pytest

import seqlab


def chat(server, name: str, body: dict) -> httpx.Response:
    return httpx.post(server.url + f"/models/{name}/chat", json=body, timeout=60)


def test_a_seq2seq_answer_is_the_translation_of_the_joined_context(s2s_server, seq2seq_run):
    predictor = seqlab.load(seq2seq_run)
    first = chat(s2s_server, "s2s", {"turns": ["a b c"], "beam_size": 2})
    assert first.status_code == 200, first.text
    assert first.json()["text"] == predictor.translate("a b c", beam_size=2)[0].text
    answer = first.json()["text"]
    body = {"turns": ["x y", "z", "a b c", answer, "d e"], "beam_size": 2, "n_best": 2}
    second = chat(s2s_server, "s2s", body).json()
    assert second["source"] == f"{answer} <turn> d e"  # the run's two turns
    (expected,) = predictor.translate(second["source"], beam_size=2, n_best=2)
    assert [second["text"], *second["alternatives"]] == [text for text, _ in expected.n_best]
    wider = chat(s2s_server, "s2s", {**body, "context_turns": 3}).json()
    assert wider["source"] == f"a b c <turn> {answer} <turn> d e"


def test_a_language_model_continues_the_context_and_separator(server, runs):
    response = chat(server, "lm", {"turns": ["the cat"], "beam_size": 1, "max_length": 6})
    assert response.status_code == 200, response.text
    expected = seqlab.load(runs["lm"]).generate(
        "the cat <turn>", 6, greedy=True, stop_at_eos=True, include_prompt=False
    )[0]
    assert response.json()["text"] == expected.split("<turn>")[0].strip()
    drawn = chat(
        server, "lm", {"turns": ["the cat"], "sampling": True, "seed": 3, "top_k": 0, "max_length": 6}
    )
    assert drawn.status_code == 200, drawn.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"turns": []}, "turns"),
        ({"turns": ["a b", "   "]}, "turns"),
        ({"turns": ["a b"], "beam_size": 2, "n_best": 3}, "n_best"),
        ({"turns": ["a b"], "context_turns": 0}, "context_turns"),
        ({"turns": ["a b"], "max_length": 5, "min_length": 9}, "min_length"),
        ({"turns": ["a b"], "beam_size": 10_000}, "beam_size"),
    ],
)
def test_bad_requests_are_422_naming_the_field(s2s_server, body, field):
    response = chat(s2s_server, "s2s", body)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]


def test_a_classifier_has_no_chat(server):
    response = chat(server, "classifier", {"turns": ["hello"]})
    assert response.status_code == 404
    assert "answers classify, encode" in response.json()["error"]
