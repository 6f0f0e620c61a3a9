"""Run the app on uvicorn, and drain on SIGTERM: stop accepting connections, let the requests in
flight finish (up to ``drain_timeout_s``), stop the batcher, and return normally (exit status 0).

uvicorn re-raises a caught SIGTERM after its own shutdown, which would end the process with the
signal's status instead of 0; :class:`DrainingServer` takes the signals itself so a drained server
exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence

import uvicorn
from fastapi import FastAPI

from seqlab.serve.app import create_app
from seqlab.serve.read_timeout import read_timeout_protocol
from seqlab.serve.registry import Loader, ModelSpec
from seqlab.serve.settings import ServeSettings, validated

log = logging.getLogger("seqlab.serve")
DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a graceful drain on SIGTERM/SIGINT and no signal re-raised after it."""

    def __init__(self, config: uvicorn.Config, on_drain: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.on_drain = on_drain

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.drain) for sig in DRAIN_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def drain(self, sig: int = signal.SIGTERM, frame: object = None) -> None:
        """Begin the graceful shutdown (a second SIGINT forces it)."""
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
            return
        log.info("%s: draining requests in flight, then exiting", signal.Signals(sig).name)
        if self.on_drain is not None:
            self.on_drain()
        self.should_exit = True


def build_server(app: FastAPI, settings: ServeSettings, *, log_level: str = "info") -> DrainingServer:
    """A server for ``app`` on ``settings.host:port``, its drain marking the app not ready."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        timeout_graceful_shutdown=int(max(1, settings.drain_timeout_s)),
        http=read_timeout_protocol(settings.read_timeout_s),
        server_header=False,
        proxy_headers=False,
        lifespan="on",
    )

    def mark_draining() -> None:
        app.state.seqlab.draining = True

    return DrainingServer(config, on_drain=mark_draining)


def serve(
    specs: Sequence[ModelSpec],
    settings: ServeSettings,
    *,
    log_level: str = "info",
    loader: Loader | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT, then drain; returns 0 after a clean drain. ``loader(path)`` loads a
    model (default :func:`seqlab.api.load`, which verifies the run's manifests)."""
    settings = validated(settings)
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "listening on %s: reachable from other machines%s",
            settings.host,
            "" if settings.token else " and no --token / SEQLAB_TOKEN is set",
        )
    server = build_server(create_app(specs, settings, loader=loader), settings, log_level=log_level)
    server.run()
    return 0 if server.started else 1
