"""Every error the server answers is JSON ``{"error": message, "type": kind}`` (422s add ``"field"``).

Bad input never becomes a 5xx: malformed JSON 400, invalid UTF-8 400, wrong or missing fields 422
naming the field, empty input or too many tokens 422, too large a body 413, unknown model 404,
queue full 429 (with ``Retry-After``), decoding past its time limit 504, a model still loading or
failed to load 503, a request cut by the shutdown 503. A user error a predictor raises
(:class:`~seqlab.errors.SeqlabError`) is a 422. Only a bug in the server is a 500. No answer shows an
absolute path.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from seqlab.errors import SeqlabError

log = logging.getLogger("seqlab.serve")

TYPE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "queue_full",
    503: "not_ready",
    504: "timeout",
}


class ApiError(Exception):
    """An error answer: HTTP ``status``, a ``kind`` for programs, a ``message`` for people."""

    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.field = field
        self.headers = headers or {}


ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/-])/(?:[^\s/'\"]+/)+")


def hide_paths(text: str) -> str:
    """``text`` with every absolute path cut to its last part (``/srv/runs/x/model.safetensors`` ->
    ``model.safetensors``): answers never show the server's disk layout."""
    return ABSOLUTE_PATH.sub("", text)


def error_body(message: str, kind: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": hide_paths(message), "type": kind}
    if field is not None:
        body["field"] = field
    return body


def error_response(
    status: int, message: str, kind: str, *, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(message, kind, field), status_code=status, headers=headers)


def error_bytes(message: str, kind: str) -> bytes:
    """The JSON body of an error, for the ASGI middlewares that answer before the app runs."""
    return json.dumps(error_body(message, kind)).encode("utf-8")


def field_name(loc: tuple | list) -> str:
    """``("body", "texts", 2)`` -> ``"texts[2]"``; ``("body",)`` -> ``"body"``."""
    parts = [p for p in loc if p not in ("body",)] or ["body"]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
        return error_response(400, f"malformed JSON body{': ' + detail if detail else ''}", "malformed_json")
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    name = field_name(first.get("loc", ("body",)))
    message = f"{name}: {first.get('msg', 'invalid value')}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more: " + ", ".join(
            field_name(e.get("loc", ())) for e in errors[1:4]
        )
        message += ", ...)" if len(errors) > 4 else ")"
    return error_response(422, message, "invalid_request", field=name)


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception the app can meet to a JSON error answer."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.kind, field=exc.field, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = TYPE_BY_STATUS.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else kind.replace("_", " ")
        if exc.status_code == 400 and message == "There was an error parsing the body":
            message, kind = "malformed JSON body", "malformed_json"
        return error_response(exc.status_code, message, kind, headers=getattr(exc, "headers", None))

    @app.exception_handler(SeqlabError)
    async def _user_error(_: Request, exc: SeqlabError) -> JSONResponse:
        return error_response(422, str(exc), "invalid_request")

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error while answering a request", exc_info=exc)
        return error_response(500, "internal server error (logged on the server)", "internal")
