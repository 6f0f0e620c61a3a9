"""The batching queue: requests waiting together share one model call and get the same answers as
alone; a full queue answers 429 with Retry-After; decoding past the time limit answers 504."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from serve_helpers import Gate, gated_loader, run_async, running, specs_for

import seqlab
from seqlab.serve import ServeSettings

TEXTS = [
    "the soup was hot",
    "the team won the match",
    "rain and wind all day",
    "a sweet cake",
    "sunny",
    "they scored two goals in the second half",
    "bread",
    "cold and cloudy tomorrow",
]


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


async def post_all(url: str, path: str, bodies: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return await asyncio.gather(*(client.post(path, json=body) for body in bodies))


@pytest.fixture()
def gated(runs):
    gate = Gate()
    settings = ServeSettings(queue_size=len(TEXTS) + 1, decode_timeout_s=30)
    with running(specs_for({"classifier": runs["classifier"]}), settings, loader=gated_loader(gate)) as srv:
        yield srv, gate
        gate.open()


def test_requests_waiting_together_share_one_call_and_match_unbatched_answers(gated, runs):
    srv, gate = gated
    gate.close()
    # a first request occupies the model; the others queue behind it
    first = threading.Thread(
        target=httpx.post, args=(srv.url + "/models/classifier/classify",), kwargs={"json": {"text": "first"}}
    )
    first.start()
    assert gate.entered.wait(30)
    stats = srv.app.state.seqlab.batcher.stats
    in_flight_before = stats.in_flight
    bodies = [{"text": t, "explain": True} for t in TEXTS]
    result: dict = {}
    sender = threading.Thread(
        target=lambda: result.update(r=asyncio.run(post_all(srv.url, "/models/classifier/classify", bodies)))
    )
    sender.start()
    wait_for(lambda: stats.in_flight == in_flight_before + len(TEXTS))
    gate.open()
    sender.join(60)
    first.join(60)
    responses = result["r"]
    assert [r.status_code for r in responses] == [200] * len(TEXTS)
    assert gate.calls[-1] == ("predict", len(TEXTS)), gate.calls  # all eight in one model call
    alone = seqlab.load(runs["classifier"])
    for text, response in zip(TEXTS, responses):
        got = response.json()["results"][0]
        expected = alone.predict(text, explain=True)
        assert got["text"] == text and got["label"] == expected.label
        for item in got["probabilities"]:
            assert item["probability"] == pytest.approx(expected.probabilities[item["label"]], abs=1e-5)
        assert [a["weight"] for a in got["attention"]] == pytest.approx(expected.weights, abs=1e-5)


def test_a_full_queue_answers_429_with_retry_after(runs):
    gate = Gate()
    settings = ServeSettings(queue_size=1)
    with running(specs_for({"classifier": runs["classifier"]}), settings, loader=gated_loader(gate)) as srv:
        gate.close()
        url = srv.url + "/models/classifier/classify"
        busy = threading.Thread(
            target=httpx.post, args=(url,), kwargs={"json": {"text": "busy"}, "timeout": 60}
        )
        busy.start()
        assert gate.entered.wait(30)  # the model is busy with the first request
        waiting = threading.Thread(
            target=httpx.post, args=(url,), kwargs={"json": {"text": "wait"}, "timeout": 60}
        )
        waiting.start()
        batcher = srv.app.state.seqlab.batcher
        wait_for(lambda: batcher.queued == 1)  # the second waits in the queue, which is now full
        response = httpx.post(url, json={"text": "one too many"})
        assert response.status_code == 429
        assert response.json()["type"] == "queue_full"
        assert int(response.headers["retry-after"]) >= 1
        gate.open()
        busy.join(60)
        waiting.join(60)
        assert httpx.post(url, json={"text": "later"}).status_code == 200


def test_decoding_past_the_time_limit_answers_504(runs):
    gate = Gate()
    settings = ServeSettings(decode_timeout_s=0.3)
    with running(specs_for({"classifier": runs["classifier"]}), settings, loader=gated_loader(gate)) as srv:
        gate.close()
        response = httpx.post(srv.url + "/models/classifier/classify", json={"text": "slow"}, timeout=30)
        assert response.status_code == 504
        assert response.json()["type"] == "timeout"
        gate.open()
        # the server goes on answering; a request that timed out while queued is dropped unrun
        assert httpx.post(srv.url + "/models/classifier/classify", json={"text": "fast"}).status_code == 200


def test_a_real_long_generation_past_the_limit_answers_504(runs):
    settings = ServeSettings(decode_timeout_s=0.02, max_output_tokens=500)
    with running(specs_for({"lm": runs["lm"]}), settings) as srv:
        body = {"prompt": "the", "max_tokens": 500, "greedy": True}
        response = httpx.post(srv.url + "/models/lm/generate", json=body, timeout=60)
        assert response.status_code == 504
        assert httpx.get(srv.url + "/health/live").status_code == 200


def test_one_bad_request_does_not_fail_its_batch_neighbours(runs):
    """A user error inside a batched call is retried alone: only its own request fails."""
    from seqlab.errors import DataError
    from seqlab.serve.batching import Batcher

    def run(texts):
        if "bad" in texts:
            raise DataError("cannot read 'bad'")
        return [t.upper() for t in texts]

    async def scenario():
        batcher = Batcher(max_batch_size=8, wait_s=0.05, queue_size=8)
        batcher.start()
        futures = [batcher.submit("k", [t], run) for t in ("a", "bad", "c")]
        results = await asyncio.gather(*futures, return_exceptions=True)
        await batcher.stop()
        return results, batcher.stats

    results, stats = run_async(scenario)
    assert results[0] == ["A"] and results[2] == ["C"]
    assert isinstance(results[1], DataError)
    assert stats.largest_batch == 3


def test_a_timed_out_request_frees_its_queue_slot(runs):
    """Requests that timed out while queued must not hold the queue: a fresh one gets in (not 429)."""
    gate = Gate()
    settings = ServeSettings(queue_size=1, decode_timeout_s=1.0)
    with running(specs_for({"classifier": runs["classifier"]}), settings, loader=gated_loader(gate)) as srv:
        gate.close()
        url = srv.url + "/models/classifier/classify"
        assert httpx.post(url, json={"text": "runs"}, timeout=30).status_code == 504  # the model holds it
        assert gate.entered.is_set()
        assert httpx.post(url, json={"text": "waits"}, timeout=30).status_code == 504  # queued, timed out
        stats = httpx.get(srv.url + "/stats").json()
        assert (stats["in_flight"], stats["queued"]) == (0, 0), stats
        result: dict = {}
        fresh = threading.Thread(target=lambda: result.update(r=httpx.post(url, json={"text": "fresh"})))
        fresh.start()
        wait_for(lambda: "r" in result or httpx.get(srv.url + "/stats").json()["in_flight"] == 1)
        gate.open()
        fresh.join(30)
        assert result["r"].status_code == 200, result["r"].text


def test_abandoned_requests_do_not_pile_up_behind_a_stuck_model():
    from seqlab.serve.batching import Batcher

    release = threading.Event()

    def run(texts):
        assert release.wait(30)
        return texts

    async def scenario():
        batcher = Batcher(max_batch_size=1, wait_s=0, queue_size=2)
        batcher.start()
        stuck = batcher.submit("k", ["stuck"], run)
        await asyncio.sleep(0.05)  # the worker takes it and waits in the model thread
        longest = 0
        for i in range(50):  # each caller gives up at once
            batcher.submit("k", [str(i)], run).cancel()
            await asyncio.sleep(0)
            longest = max(longest, batcher.queue.qsize())
        queued = batcher.queued
        release.set()
        assert await stuck == ["stuck"]
        await batcher.stop()
        return longest, queued, batcher.stats.in_flight

    longest, queued, in_flight = run_async(scenario)
    assert longest <= 2 * 2 + 1 and queued == 0 and in_flight == 0
