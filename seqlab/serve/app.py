"""``create_app(specs, settings)``: the FastAPI app that serves trained run directories.

Start-up loads every model in the model thread and sends each one real warm-up request through the
batcher; ``/health/ready`` answers 200 only after that (``/health/live`` answers from the first
moment). Endpoints, by family (``GET /models`` lists each model's own):

    POST /models/{name}/generate   language model: continue a prompt
    POST /models/{name}/next       language model: the next-token distribution
    POST /models/{name}/classify   classifier: label probabilities (+ attention weights)
    POST /models/{name}/tag        tagger: a tag per word
    POST /models/{name}/translate  seq2seq: translations, n-best lists, attention on request
    POST /models/{name}/chat       seq2seq, language model: the next answer in a conversation
    POST /models/{name}/encode     any: sentence vectors

``GET /`` is the web page (``static/``); ``GET /openapi.json`` the schema; ``GET /stats`` the
batcher's counters. No GET changes anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from seqlab.serve import operations
from seqlab.serve import schemas as s
from seqlab.serve.batching import Batcher, QueueFull
from seqlab.serve.errors import ApiError, hide_paths, install_error_handlers
from seqlab.serve.guard import RequestGuard
from seqlab.serve.registry import Loader, ModelEntry, ModelSpec, Registry
from seqlab.serve.settings import ServeSettings, validated

log = logging.getLogger("seqlab.serve")
STATIC = Path(__file__).resolve().parent / "static"


@dataclass
class ServerState:
    """What the routes share: settings, the models, the batcher, and whether a drain began."""

    settings: ServeSettings
    registry: Registry
    batcher: Batcher | None = None
    draining: bool = False
    tasks: list[asyncio.Task] = field(default_factory=list)


async def load_models(state: ServerState) -> None:
    """Load each model, then warm it up with one real request through the batcher. Each model loads
    on its own: a failure marks that model failed (its endpoints answer 503) and the next one loads."""
    batcher = state.batcher
    assert batcher is not None
    for entry in state.registry.entries.values():
        try:
            await batcher.call_in_model_thread(lambda entry=entry: state.registry.load(entry))
            call = operations.warm_up_call(entry, state.settings)
            outputs = await batcher.submit(call.key, call.inputs, call.run)
            call.finish(outputs)
            entry.ready = True
            log.info("model %r (%s) loaded and warmed up", entry.spec.name, entry.family)
        except Exception as exc:  # reported by /health/ready and /models; the server stays up
            log.error("model %r failed to load: %s: %s", entry.spec.name, type(exc).__name__, exc)
            reason = str(exc).replace(str(entry.spec.path), entry.spec.path.name)
            entry.error = hide_paths(f"{type(exc).__name__}: {reason}")


def create_app(
    specs: Sequence[ModelSpec], settings: ServeSettings | None = None, *, loader: Loader | None = None
) -> FastAPI:
    """The app serving ``specs`` (see :func:`seqlab.serve.registry.parse_model_specs`).

    ``loader(path) -> predictor`` defaults to :func:`seqlab.api.load`.
    """
    settings = validated(settings or ServeSettings())
    state = ServerState(settings, Registry(specs, loader))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.batcher = Batcher(
            max_batch_size=settings.max_batch_size,
            wait_s=settings.batch_wait_ms / 1000.0,
            queue_size=settings.queue_size,
        )
        state.batcher.start()
        state.tasks.append(asyncio.get_running_loop().create_task(load_models(state)))
        yield
        for task in state.tasks:
            task.cancel()
        await state.batcher.stop()

    app = FastAPI(
        title="seqlab",
        summary="LSTM and Seq2Seq models over HTTP",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        responses=s.ERROR_RESPONSES,
    )
    app.state.seqlab = state
    install_error_handlers(app)
    _add_routes(app, state)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RequestGuard, settings=settings)
    return app


def _version() -> str:
    from seqlab import __version__

    return __version__


def _entry(state: ServerState, name: str) -> ModelEntry:
    entry = state.registry.entries.get(name)
    if entry is None:
        known = ", ".join(state.registry.entries) or "none"
        raise ApiError(404, "not_found", f"no model named {name!r} (loaded: {known})")
    if entry.error:
        raise ApiError(503, "load_failed", f"model {name!r} failed to load: {entry.error}")
    if not entry.ready:
        raise ApiError(503, "not_ready", f"model {name!r} is still loading", headers={"Retry-After": "1"})
    return entry


def _path_model(request: Request, name: str) -> ModelEntry:
    return _entry(request.app.state.seqlab, name)


Model = Annotated[ModelEntry, Depends(_path_model)]
"""The model the path names: 404 (unknown) or 503 (not ready) before the body is judged."""


async def _dispatch(state: ServerState, op: str, entry: ModelEntry, request: Any) -> Any:
    call = operations.build(op, entry, request, state.settings)
    assert state.batcher is not None
    try:
        future = state.batcher.submit(call.key, call.inputs, call.run)
    except QueueFull:
        message = f"the queue is full ({state.settings.queue_size} requests waiting): retry shortly"
        raise ApiError(429, "queue_full", message, headers={"Retry-After": "1"}) from None
    try:
        outputs = await asyncio.wait_for(asyncio.shield(future), state.settings.decode_timeout_s)
    except asyncio.TimeoutError:
        future.cancel()
        limit = state.settings.decode_timeout_s
        raise ApiError(504, "timeout", f"decoding took longer than {limit:g} s (--decode-timeout)") from None
    return call.finish(outputs)


def _add_routes(app: FastAPI, state: ServerState) -> None:
    """Register every route, in the order the OpenAPI schema lists them."""
    _add_health_routes(app, state)
    _add_model_routes(app, state)
    _add_server_routes(app, state)


def _add_health_routes(app: FastAPI, state: ServerState) -> None:
    """``/health/live`` and ``/health/ready`` (no token needed)."""

    @app.get("/health/live", response_model=s.Health, tags=["health"])
    async def live() -> s.Health:
        """200 while the process runs."""
        return s.Health(status="live")

    @app.get("/health/ready", response_model=s.Health, tags=["health"], responses={503: {"model": s.Health}})
    async def ready() -> Any:
        """200 once every model is loaded and answered a warm-up request (``ready``), or once the
        loading ended with some models failed and others ready (``degraded``); 503 while loading,
        when no model loaded (``failed``), and while draining on shutdown. ``models`` gives each
        model's own status."""
        models = {
            name: s.ModelHealth(status=e.status, error=e.error)  # type: ignore[arg-type]
            for name, e in state.registry.entries.items()
        }
        status = "draining" if state.draining else state.registry.status()
        if status in ("ready", "degraded"):
            return s.Health(status=status, models=models)  # type: ignore[arg-type]
        failures = "; ".join(f"{name!r}: {h.error}" for name, h in models.items() if h.error)
        message = {
            "draining": "the server is shutting down",
            "loading": "models are loading",
            "failed": f"no model loaded ({failures})",
        }[status]
        body = s.Health(status=status, error=message, type="not_ready", models=models)  # type: ignore[arg-type]
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "1"})


def _add_model_routes(app: FastAPI, state: ServerState) -> None:
    """``/models``, ``/models/{name}`` and each family's operations, batched by ``_dispatch``."""

    @app.get("/models", response_model=s.ModelsResponse, tags=["models"])
    async def models() -> s.ModelsResponse:
        """Every model this server holds: family, endpoints, readiness and config."""
        return s.ModelsResponse(models=[s.ModelInfo(**e.describe()) for e in state.registry.entries.values()])

    @app.get("/models/{name}", response_model=s.ModelInfo, tags=["models"])
    async def model_info(name: str) -> s.ModelInfo:
        entry = state.registry.entries.get(name)
        if entry is None:
            raise ApiError(404, "not_found", f"no model named {name!r}")
        return s.ModelInfo(**entry.describe())

    @app.post("/models/{name}/classify", response_model=s.ClassifyResponse, tags=["classifier"])
    async def classify(body: s.ClassifyRequest, entry: Model) -> Any:
        """Label probabilities of each text; ``explain`` adds per-token attention weights."""
        return await _dispatch(state, "classify", entry, body)

    @app.post("/models/{name}/tag", response_model=s.TagResponse, tags=["tagger"])
    async def tag(body: s.TagRequest, entry: Model) -> Any:
        """A tag for every word of each text."""
        return await _dispatch(state, "tag", entry, body)

    @app.post("/models/{name}/generate", response_model=s.GenerateResponse, tags=["language model"])
    async def generate(body: s.GenerateRequest, entry: Model) -> Any:
        """Continue a prompt (sampling, or greedy)."""
        return await _dispatch(state, "generate", entry, body)

    @app.post("/models/{name}/next", response_model=s.NextResponse, tags=["language model"])
    async def next_tokens(body: s.NextRequest, entry: Model) -> Any:
        """The most likely next tokens after a text, with probabilities."""
        return await _dispatch(state, "next", entry, body)

    @app.post("/models/{name}/translate", response_model=s.TranslateResponse, tags=["seq2seq"])
    async def translate(body: s.TranslateRequest, entry: Model) -> Any:
        """Translate (beam search by default); n-best lists and attention weights on request."""
        return await _dispatch(state, "translate", entry, body)

    @app.post("/models/{name}/chat", response_model=s.ChatResponse, tags=["seq2seq", "language model"])
    async def chat(body: s.ChatRequest, entry: Model) -> Any:
        """The next answer in a conversation the client keeps (``turns``, the new one last)."""
        return await _dispatch(state, "chat", entry, body)

    @app.post("/models/{name}/encode", response_model=s.EncodeResponse, tags=["models"])
    async def encode(body: s.EncodeRequest, entry: Model) -> Any:
        """Sentence vectors from any model."""
        return await _dispatch(state, "encode", entry, body)


def _add_server_routes(app: FastAPI, state: ServerState) -> None:
    """``/stats``, the OpenAPI schema (with the bearer scheme when a token is set) and the web page."""

    @app.get("/stats", response_model=s.Stats, tags=["server"])
    async def stats() -> s.Stats:
        """Requests, batches and mean batch size so far; requests in flight and queued."""
        batcher = state.batcher
        assert batcher is not None
        return s.Stats(**batcher.stats.as_dict(batcher.queued))

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        schema = app.openapi()
        if state.settings.token:
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            for path, operations in schema.get("paths", {}).items():
                if not path.startswith("/health/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
        return JSONResponse(schema)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
