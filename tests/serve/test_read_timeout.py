"""Slow clients over a real socket: a request whose headers or body arrive too slowly (slowloris)
is closed once ``read_timeout_s`` passes, however it trickles; a slow *answer* is never cut."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from serve_helpers import Gate, gated_loader, running, specs_for

from seqlab.serve import ServeSettings

READ_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def strict(runs):
    gate = Gate()
    settings = ServeSettings(read_timeout_s=READ_TIMEOUT, decode_timeout_s=30)
    with running(specs_for({"classifier": runs["classifier"]}), settings, loader=gated_loader(gate)) as srv:
        yield srv, gate
        gate.open()


def closed_after(sock: socket.socket, trickle: list[bytes], limit: float) -> tuple[float, bytes]:
    """Send ``trickle`` a piece every 0.2 s (then nothing) until the server closes the connection;
    return the seconds that took and what the server sent. Fails after ``limit`` seconds."""
    sock.settimeout(0.2)
    start, received = time.monotonic(), b""
    pieces = list(trickle)
    while time.monotonic() - start < limit:
        if pieces:
            try:
                sock.sendall(pieces.pop(0))
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start, received
        try:
            part = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - start, received
        if not part:
            return time.monotonic() - start, received
        received += part
    raise AssertionError(f"the connection was still open after {limit} s (received {received[:100]!r})")


def test_50_connections_trickling_headers_byte_by_byte_are_all_cut(strict):
    srv, _ = strict
    head = b"POST /models/classifier/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(50)]
    closed: dict[int, tuple[float, bytes]] = {}
    received = {i: b"" for i in range(len(socks))}
    start = time.monotonic()
    try:
        for sock in socks:
            sock.setblocking(False)
        for byte in head:  # one byte per connection every 0.1 s
            for i, sock in enumerate(socks):
                if i in closed:
                    continue
                try:
                    sock.send(bytes([byte]))
                    part = sock.recv(65536)
                except BlockingIOError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    part = b""
                received[i] += part
                if not part:
                    closed[i] = (time.monotonic() - start, received[i])
            if len(closed) == len(socks) or time.monotonic() - start > READ_TIMEOUT + 5:
                break
            time.sleep(0.1)
    finally:
        for sock in socks:
            sock.close()
    assert len(closed) == len(socks), f"{len(socks) - len(closed)} of {len(socks)} connections still open"
    for took, answer in closed.values():
        assert READ_TIMEOUT * 0.9 <= took < READ_TIMEOUT + 3, took
        assert b" 408 " in answer.split(b"\r\n")[0], answer


def test_a_body_shorter_than_its_content_length_is_cut(strict):
    srv, _ = strict
    body = b'{"text": "the soup"}'
    head = (
        b"POST /models/classifier/classify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body) + 50).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        took, received = closed_after(sock, [head, body[:5], body[5:10], body[10:]], limit=8)
    assert took < READ_TIMEOUT + 3, took
    assert b" 408 " in received.split(b"\r\n")[0], received
    assert b'"type":"read_timeout"' in received.replace(b" ", b""), received


def test_a_connection_that_sends_nothing_is_cut(strict):
    srv, _ = strict
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        took, _ = closed_after(sock, [], limit=8)
    assert took < READ_TIMEOUT + 3, took


def test_a_slow_answer_and_a_kept_alive_connection_are_not_cut(strict):
    """Only reading the request is timed: decoding may take longer, and the next request on the
    same connection gets its own time."""
    srv, gate = strict
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        gate.close()
        try:
            sent = time.monotonic()
            threading.Timer(READ_TIMEOUT * 2, gate.open).start()
            response = client.post("/models/classifier/classify", json={"text": "the soup"})
            assert response.status_code == 200, response.text
            assert time.monotonic() - sent >= READ_TIMEOUT * 2
        finally:
            gate.open()
        time.sleep(READ_TIMEOUT * 0.5)
        assert client.post("/models/classifier/classify", json={"text": "the soup"}).status_code == 200
