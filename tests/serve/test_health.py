"""Health: live from the first moment; ready only after every model loaded *and* answered a warm-up
request; never ready after a failed load; model endpoints answer 503 until ready."""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

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


ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/-])/[\w.~-]+/")


def broken_copy(run: Path, where: Path) -> Path:
    """A copy of ``run`` whose weights are not a safetensors file (seqlab.load refuses it: they differ
    from the run's manifest)."""
    bad = where / "bad"
    shutil.copytree(run, bad)
    (bad / "model.safetensors").write_bytes(b"not a safetensors file")
    return bad


def test_one_failed_model_leaves_the_others_serving(runs, tmp_path):
    """The bad model is listed first: its failure must not stop the good one from loading."""
    bad = broken_copy(runs["classifier"], tmp_path)
    specs = specs_for({"bad": bad, "good": runs["classifier"]})
    with running(specs, ready=False) as srv:
        wait_for(lambda: httpx.get(srv.url + "/health/ready").json()["status"] not in ("loading",))
        response = httpx.post(srv.url + "/models/good/classify", json={"text": "the soup"})
        assert response.status_code == 200, response.text
        response = httpx.post(srv.url + "/models/bad/classify", json={"text": "the soup"})
        assert response.status_code == 503
        body = response.json()
        assert body["type"] == "load_failed" and "failed to load" in body["error"]
        assert "model.safetensors" in body["error"] and "differs from its manifest" in body["error"]
        health = httpx.get(srv.url + "/health/ready").json()
        assert health["status"] == "degraded"
        assert health["models"]["good"] == {"status": "ready", "error": None}
        assert health["models"]["bad"]["status"] == "failed"
        assert "differs from its manifest" in health["models"]["bad"]["error"]


def test_no_absolute_paths_in_any_response_after_a_failed_load(runs, tmp_path):
    bad = broken_copy(runs["classifier"], tmp_path)
    with running(specs_for({"bad": bad}), ready=False) as srv:
        wait_for(lambda: httpx.get(srv.url + "/health/ready").json()["status"] == "failed")
        answers = [
            httpx.get(srv.url + "/health/ready"),
            httpx.get(srv.url + "/models"),
            httpx.get(srv.url + "/models/bad"),
            httpx.post(srv.url + "/models/bad/classify", json={"text": "the soup"}),
        ]
        for response in answers:
            assert "safetensors" in response.text, response.text  # the reason is there...
            assert str(tmp_path) not in response.text  # ...without the server's disk layout
            assert not ABSOLUTE_PATH.search(response.text), response.text
