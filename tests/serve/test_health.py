"""Health: live from the first moment; ready only after every model loaded *and* answered a warm-up
request; never ready after a failed load; model endpoints answer 503 until ready."""

from __future__ import annotations

import threading
import time

import httpx
from serve_helpers import Gate, running, specs_for

from seqlab.errors import CheckpointError


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_ready_waits_for_loading(runs):
    release = threading.Event()

    def slow_loader(path):
        from seqlab.api import load

        assert release.wait(30)
        return load(path)

    with running(specs_for({"classifier": runs["classifier"]}), loader=slow_loader, ready=False) as srv:
        assert httpx.get(srv.url + "/health/live").status_code == 200
        response = httpx.get(srv.url + "/health/ready")
        assert response.status_code == 503
        assert response.json()["status"] == "loading"
        models = httpx.get(srv.url + "/models").json()["models"]
        assert models == [{**models[0], "name": "classifier", "ready": False}]
        response = httpx.post(srv.url + "/models/classifier/classify", json={"text": "the soup"})
        assert response.status_code == 503
        assert response.json()["type"] == "not_ready"
        assert "retry-after" in response.headers
        release.set()
        wait_for(lambda: httpx.get(srv.url + "/health/ready").status_code == 200)
        response = httpx.post(srv.url + "/models/classifier/classify", json={"text": "the soup"})
        assert response.status_code == 200


def test_ready_waits_for_the_warm_up_request(runs):
    """Loaded is not enough: the warm-up request through the batcher must have answered."""
    gate = Gate()
    gate.close()
    from seqlab.api import load

    with running(
        specs_for({"classifier": runs["classifier"]}), loader=lambda p: gate.wrap(load(p)), ready=False
    ) as srv:
        assert gate.entered.wait(30), "the warm-up request never reached the model"
        assert srv.app.state.seqlab.registry.entries["classifier"].predictor is not None  # loaded
        assert httpx.get(srv.url + "/health/ready").status_code == 503
        gate.open()
        wait_for(lambda: httpx.get(srv.url + "/health/ready").status_code == 200)
        assert gate.calls[0][0] == "predict"


def test_a_failed_load_never_becomes_ready(runs):
    def broken(path):
        raise CheckpointError(f"{path}: model.safetensors is damaged")

    with running(specs_for({"classifier": runs["classifier"]}), loader=broken, ready=False) as srv:
        wait_for(lambda: httpx.get(srv.url + "/health/ready").json()["status"] == "failed")
        response = httpx.get(srv.url + "/health/ready")
        assert response.status_code == 503
        assert "damaged" in response.json()["error"]
        assert httpx.get(srv.url + "/health/live").status_code == 200
        info = httpx.get(srv.url + "/models/classifier").json()
        assert info["ready"] is False and "damaged" in info["error"]
        response = httpx.post(srv.url + "/models/classifier/classify", json={"text": "the soup"})
        assert response.status_code == 503


def test_ready_turns_503_when_draining(server):
    state = server.app.state.seqlab
    state.draining = True
    try:
        response = httpx.get(server.url + "/health/ready")
        assert response.status_code == 503
        assert response.json()["status"] == "draining"
    finally:
        state.draining = False
    assert httpx.get(server.url + "/health/ready").status_code == 200
