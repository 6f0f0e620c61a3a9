"""The gate every request passes before the app sees it (a plain ASGI middleware).

In order: the ``Host`` header (a server on loopback answers only to loopback names, so a web page
elsewhere cannot reach it through DNS rebinding); the bearer token (every path but health and the
static page); the body size (a ``Content-Length`` over the limit is refused at once, a chunked body
as soon as it passes the limit, and the rest is never read); strict UTF-8. The body, read once, is
handed to the app as it came. Every answer gets security headers (``nosniff``, a same-origin content
security policy, no caching of API answers). A request that the shutdown cuts (the drain's time
limit ran out) gets a JSON 503 rather than the server's plain-text 500.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from seqlab.serve.errors import error_bytes
from seqlab.serve.settings import ServeSettings, is_loopback

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC_PATHS = ("/health/live", "/health/ready", "/", "/favicon.ico")
PUBLIC_PREFIXES = ("/static/",)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]


def is_public(path: str) -> bool:
    """Paths that need no token: health checks and the static web page (no data, no state)."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def host_name(header: str) -> str:
    """``"127.0.0.1:8000"`` -> ``"127.0.0.1"``; ``"[::1]:8000"`` -> ``"[::1]"``."""
    if header.startswith("["):
        return header.split("]")[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class RequestGuard:
    """Host check, bearer token, body limit and UTF-8 check, in front of ``app``."""

    def __init__(self, app: ASGIApp, settings: ServeSettings) -> None:
        self.app = app
        self.settings = settings
        self.token = settings.token.encode("utf-8") if settings.token else None
        self.loopback_only = is_loopback(settings.host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = _Tracked(_with_security_headers(send, api=not is_public(scope["path"])))
        try:
            await self._guarded(scope, receive, tracked)
        except asyncio.CancelledError:  # the drain's time limit (--drain-timeout) ran out
            if tracked.started:
                raise
            message = "the server shut down before this request finished (--drain-timeout): retry"
            await _answer(tracked, 503, message, "shutting_down")

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refuse(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        parts, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if size > self.settings.max_body_bytes:
                await _answer(send, 413, *self._too_large())
                return
            if not message.get("more_body", False):
                break
        body = b"".join(parts)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = (
                f"request body is not valid UTF-8 (byte {exc.start}: {body[exc.start : exc.start + 1]!r})"
            )
            await _answer(send, 400, message, "invalid_utf8")
            return
        await self.app(scope, _replay(body, receive), send)

    def _refuse(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, str, list] | None:
        """(status, message, kind, extra headers) when the request is refused before its body."""
        if self.loopback_only and not is_loopback(host_name(headers.get("host", "localhost"))):
            return (
                400,
                "this server answers only to loopback host names (localhost, 127.0.0.1)",
                "bad_host",
                [],
            )
        if self.token is not None and not is_public(scope["path"]):
            given = headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), self.token):
                message = "missing or wrong bearer token (send 'Authorization: Bearer TOKEN')"
                return 401, message, "unauthorized", [(b"www-authenticate", b"Bearer")]
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                return 400, f"invalid Content-Length header {length!r}", "bad_request", []
            if int(length) > self.settings.max_body_bytes:
                return 413, *self._too_large(), []
        return None

    def _too_large(self) -> tuple[str, str]:
        return f"request body larger than {self.settings.max_body_bytes} bytes", "body_too_large"


class _Tracked:
    """A ``send`` that remembers whether the response began."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the already-read body, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_security_headers(send: Send, api: bool) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {k.lower() for k, _ in headers}
            headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            if api and b"cache-control" not in present:
                headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _answer(send: Send, status: int, message: str, kind: str, extra: list | None = None) -> None:
    """A JSON error, and the connection closed (its unread body is never read)."""
    body = error_bytes(message, kind)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
