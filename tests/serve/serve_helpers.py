"""Helpers of the serving tests (``conftest.py`` puts this folder on ``sys.path``).

``running(...)``: serve run directories on a real socket (uvicorn in a thread of the test process,
on a port the OS picked) and stop afterwards. ``Gate``: wraps a predictor so a test decides when its
calls may finish (queue-full, time-limit and batching tests need a model that is busy on demand).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from seqlab.serve import ServeSettings, create_app
from seqlab.serve.registry import ModelSpec
from seqlab.serve.runner import DrainingServer, build_server

FAMILIES = ("lm", "classifier", "tagger")


def specs_for(runs: dict[str, Path]) -> list[ModelSpec]:
    return [ModelSpec(name, path.resolve()) for name, path in runs.items()]


@dataclass
class Running:
    url: str
    app: Any
    server: DrainingServer
    port: int

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not become ready in {timeout} s")


@contextlib.contextmanager
def running(
    specs: list[ModelSpec], settings: ServeSettings | None = None, *, loader: Any = None, ready: bool = True
) -> Iterator[Running]:
    """Serve ``specs`` on 127.0.0.1 (a free port) in a thread; stop on exit."""
    # proto=IPPROTO_TCP as uvicorn's own sockets have it: asyncio sets TCP_NODELAY on the connections
    # only then (with proto 0 every kept-alive request waits ~40 ms for a delayed ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = dataclasses.replace(settings or ServeSettings(), port=port)
    app = create_app(specs, settings, loader=loader)
    server = build_server(app, settings, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        if ready:
            wait_ready(url)
        yield Running(url, app, server, port)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


class Gate:
    """Wraps a predictor: while closed, its model calls wait (``entered`` is set when one does)."""

    def __init__(self) -> None:
        self.open_event = threading.Event()
        self.open_event.set()
        self.entered = threading.Event()
        self.calls: list[tuple[str, int]] = []

    def close(self) -> None:
        self.entered.clear()
        self.open_event.clear()

    def open(self) -> None:
        self.open_event.set()

    def wrap(self, predictor: Any) -> Any:
        gate = self

        class Gated:
            def __getattr__(self, name: str) -> Any:
                value = getattr(predictor, name)
                if name not in ("predict", "translate", "generate", "predict_next", "encode"):
                    return value

                def call(*args: Any, **kwargs: Any) -> Any:
                    size = len(args[0]) if args and isinstance(args[0], list) else 1
                    gate.calls.append((name, size))
                    gate.entered.set()
                    assert gate.open_event.wait(30), "gate never opened"
                    return value(*args, **kwargs)

                return call

        return Gated()


def gated_loader(gate: Gate) -> Any:
    from seqlab.api import load

    return lambda path: gate.wrap(load(path))


def run_async(make_coroutine: Any) -> Any:
    """``asyncio.run(make_coroutine())`` in a thread of its own, so it works whatever event loop
    the calling thread has (Playwright's sync API keeps one in the main thread)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(make_coroutine())
        except BaseException as exc:  # handed to the caller
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(300)
    if "error" in result:
        raise result["error"]
    return result["value"]
