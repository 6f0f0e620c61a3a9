"""SIGTERM on a real ``seqlab serve`` process: new connections are refused, the requests in flight
all finish with 200, and the process exits 0."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def start_server(*args: str) -> tuple[subprocess.Popen, str, list[str]]:
    """``seqlab serve ARGS --port 0``; returns the process, its URL and its (growing) log lines."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("SEQLAB_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqlab", "serve", *args, "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            match = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
            if match and not url:
                url.append(match.group(1))
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(60):
        proc.kill()
        raise AssertionError("server did not start:\n" + "".join(lines))
    return proc, url[0], lines


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def ready(url: str) -> bool:
    try:
        return httpx.get(url + "/health/ready").status_code == 200
    except httpx.TransportError:
        return False


def test_sigterm_drains_requests_in_flight_and_exits_0(runs):
    proc, url, lines = start_server(f"lm={runs['lm']}", "--max-output-tokens", "300")
    try:
        wait_until(lambda: ready(url))
        results: list[tuple[int, dict]] = []

        def generate() -> None:
            body = {"prompt": "the", "max_tokens": 300, "greedy": True}
            response = httpx.post(url + "/models/lm/generate", json=body, timeout=120)
            results.append((response.status_code, response.json()))

        clients = [threading.Thread(target=generate) for _ in range(3)]
        for client in clients:
            client.start()
        wait_until(lambda: httpx.get(url + "/stats").json()["in_flight"] == 3)
        proc.send_signal(signal.SIGTERM)

        def refused() -> bool:
            try:
                httpx.get(url + "/health/live", timeout=5)
                return False
            except httpx.ConnectError:
                return True

        wait_until(refused, timeout=10)
        unfinished_when_refused = sum(client.is_alive() for client in clients)
        for client in clients:
            client.join(120)
        assert proc.wait(timeout=60) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert unfinished_when_refused >= 1, "the drain began after every request had finished"
    assert [status for status, _ in results] == [200] * 3
    assert all(body["texts"][0].startswith("the") for _, body in results)
    assert any("draining" in line for line in lines)


def test_requests_cut_by_the_drain_timeout_get_a_json_503(runs):
    """A request still running when ``drain_timeout_s`` ends is cut: JSON 503, not a plain-text 500."""
    from serve_helpers import Gate, gated_loader, running, specs_for

    from seqlab.serve import ServeSettings

    gate = Gate()
    settings = ServeSettings(drain_timeout_s=1)
    result: dict = {}
    with running(specs_for({"classifier": runs["classifier"]}), settings, loader=gated_loader(gate)) as srv:
        gate.close()

        def classify() -> None:
            result["r"] = httpx.post(srv.url + "/models/classifier/classify", json={"text": "a"}, timeout=30)

        client = threading.Thread(target=classify)
        client.start()
        assert gate.entered.wait(30)
        started = time.monotonic()
        srv.server.drain()
        client.join(30)
        waited = time.monotonic() - started
        gate.open()
    response = result["r"]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["type"] == "shutting_down"
    assert waited < 10
