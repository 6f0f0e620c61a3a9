"""A time limit on reading each request (slowloris): uvicorn's HTTP/1.1 protocol (h11) with a deadline.

uvicorn has no such limit (its ``timeout_keep_alive`` covers only the idle time between requests, and
every byte received resets it), and an ASGI middleware cannot help while the headers are still
arriving: the app sees a request only once its headers are complete. So the limit lives in the
protocol. The clock starts when a connection opens and again when an answer ends on a kept-alive
connection; it stops once the whole request (headers and body) is in. A client that has not sent
its whole request by then gets a JSON 408 (when no answer began) and the connection is closed.
Decoding is never timed here (``decode_timeout_s`` does that).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from seqlab.serve.errors import error_bytes

log = logging.getLogger("seqlab.serve")
READING = (h11.IDLE, h11.SEND_BODY)  # the client's side of h11's state machine while a request arrives


class ReadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request takes over ``read_timeout_s``."""

    read_timeout_s: float = 20.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state not in READING:  # the whole request is in (or the connection ended)
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state in READING and self._deadline is None:
            self._arm()  # a kept-alive connection: the next request gets its own time

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout_s, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.info("closed a connection whose request took over %g s to arrive", self.read_timeout_s)
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):  # no answer began: say why, then close
            body = error_bytes(
                f"the request did not arrive within {self.read_timeout_s:g} s (--read-timeout)",
                "read_timeout",
            )
            head = (
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode("ascii") + body)
        self.transport.close()


def read_timeout_protocol(seconds: float) -> type[ReadTimeoutProtocol]:
    """The protocol class for uvicorn's ``http=`` with a limit of ``seconds``."""
    return type("ReadTimeoutProtocol", (ReadTimeoutProtocol,), {"read_timeout_s": seconds})
