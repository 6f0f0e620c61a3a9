"""Each endpoint's work: check the request against the server's limits (naming the field), then say
how its texts run as part of a batch and how the outputs become the answer.

``build(op, entry, request, settings) -> Call``; the app submits ``Call.inputs`` to the batcher under
``Call.key`` (requests with equal keys share a model call) and turns the outputs into the response
with ``Call.finish``. Nothing here touches the event loop; ``Call.run`` runs in the model thread.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from seqlab.data.readers.dialogue import join_context
from seqlab.errors import ConfigError
from seqlab.predictors.chat import Chatbot
from seqlab.predictors.generation import check_beam
from seqlab.serve import schemas as s
from seqlab.serve.errors import ApiError
from seqlab.serve.registry import ENDPOINTS, ModelEntry
from seqlab.serve.settings import ServeSettings


@dataclass(frozen=True)
class Call:
    key: Hashable
    inputs: list[Any]
    run: Callable[[list[Any]], Sequence[Any]]
    finish: Callable[[list[Any]], Any]


def invalid(field: str, message: str, kind: str = "invalid_request") -> ApiError:
    return ApiError(422, kind, f"{field}: {message}", field=field)


def finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


# -- input texts ---------------------------------------------------------------------------------


def tokenizer_of(entry: ModelEntry) -> Callable[[str], list[str]]:
    """How the model splits an input text into the tokens the input limit counts."""
    pred = entry.predictor
    if entry.family == "language_model":
        return pred.tokenizer.tokenize
    if entry.family == "tagger":
        return pred.split
    if entry.family == "classifier":
        return pred.pipeline.tokenizer.tokenize
    return pred.pipeline.source_tokenizer.tokenize  # seq2seq: the source side


def check_text(entry: ModelEntry, text: str, field: str, settings: ServeSettings) -> None:
    """422 unless ``text`` is non-empty, encodable UTF-8 and within the input token limit."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(
            field, "text holds an unpaired surrogate (\\ud800-\\udfff): not valid Unicode"
        ) from None
    if not text.strip():
        raise invalid(field, "empty input", "empty_input")
    count = len(tokenizer_of(entry)(text))
    if count == 0:
        raise invalid(field, "empty input (no tokens)", "empty_input")
    if count > settings.max_input_tokens:
        raise invalid(
            field,
            f"{count} tokens; the limit is {settings.max_input_tokens} (--max-input-tokens)",
            "too_many_tokens",
        )


def texts_of(entry: ModelEntry, request: s.TextsRequest, settings: ServeSettings) -> list[str]:
    """The request's texts (``text`` or ``texts``), each checked."""
    if (request.text is None) == (request.texts is None):
        raise invalid("text", "give 'text' (a string) or 'texts' (a list of strings): exactly one")
    if request.text is not None:
        check_text(entry, request.text, "text", settings)
        return [request.text]
    texts = request.texts or []
    if not texts:
        raise invalid("texts", "empty input (an empty list)", "empty_input")
    if len(texts) > settings.max_batch_size:
        raise invalid(
            "texts", f"{len(texts)} texts; the limit is {settings.max_batch_size} (--max-batch-size)"
        )
    for index, text in enumerate(texts):
        check_text(entry, text, f"texts[{index}]", settings)
    return list(texts)


def at_most(field: str, value: int | None, limit: int, flag: str) -> None:
    if value is not None and value > limit:
        raise invalid(field, f"{value}; the limit is {limit} ({flag})")


# -- operations --------------------------------------------------------------------------------


def classify(entry: ModelEntry, request: s.ClassifyRequest, settings: ServeSettings) -> Call:
    texts = texts_of(entry, request, settings)
    pred, explain = entry.predictor, request.explain
    if explain and getattr(pred.model, "attention", None) is None:
        raise invalid("explain", "this classifier does not pool with attention: it has no weights to show")

    def finish(outputs: list[Any]) -> s.ClassifyResponse:
        results = []
        for p in outputs:
            attention = None
            if p.tokens is not None:
                attention = [s.TokenWeight(token=t, weight=w) for t, w in zip(p.tokens, p.weights or [])]
            probs = [s.LabelScore(label=k, probability=v) for k, v in p.probabilities.items()]
            results.append(
                s.ClassifyResult(text=p.text, label=p.label, probabilities=probs, attention=attention)
            )
        return s.ClassifyResponse(model=entry.spec.name, results=results)

    run = lambda xs: pred.predict(list(xs), explain=explain, batch_size=len(xs))  # noqa: E731
    return Call((entry.spec.name, "classify", explain), texts, run, finish)


def tag(entry: ModelEntry, request: s.TagRequest, settings: ServeSettings) -> Call:
    texts = texts_of(entry, request, settings)
    pred = entry.predictor

    def finish(outputs: list[Any]) -> s.TagResponse:
        results = [
            s.TagResult(text=text, tokens=[s.TaggedToken(token=w, tag=t) for w, t in pairs])
            for text, pairs in zip(texts, outputs)
        ]
        return s.TagResponse(model=entry.spec.name, results=results)

    run = lambda xs: pred.predict(list(xs), batch_size=len(xs))  # noqa: E731
    return Call((entry.spec.name, "tag"), texts, run, finish)


def encode(entry: ModelEntry, request: s.EncodeRequest, settings: ServeSettings) -> Call:
    texts = texts_of(entry, request, settings)
    pred, pool = entry.predictor, request.pool
    if pool == "attention" and getattr(getattr(pred, "model", None), "attention", None) is None:
        raise invalid("pool", "'attention' needs a classifier trained with attention pooling")

    def run(xs: list[str]) -> list[Any]:
        vectors = pred.encode(list(xs), pool=pool)
        return [row for row in (vectors.cpu().numpy() if hasattr(vectors, "cpu") else vectors)]

    def finish(outputs: list[Any]) -> s.EncodeResponse:
        vectors = [[float(v) for v in row] for row in outputs]
        return s.EncodeResponse(model=entry.spec.name, pool=pool, size=len(vectors[0]), vectors=vectors)

    return Call((entry.spec.name, "encode", pool), texts, run, finish)


def generate(entry: ModelEntry, request: s.GenerateRequest, settings: ServeSettings) -> Call:
    check_text(entry, request.prompt, "prompt", settings)
    at_most("max_tokens", request.max_tokens, settings.max_output_tokens, "--max-output-tokens")
    at_most("num_samples", request.num_samples, settings.max_batch_size, "--max-batch-size")
    at_most("beam_size", request.beam_size, settings.max_beam_size, "--max-beam-size")
    sampling = {k: getattr(request, k) for k in ("temperature", "top_k", "top_p", "seed")}
    try:
        check_beam(request.beam_size, request.num_samples, **sampling)
    except ConfigError as exc:
        raise invalid("beam_size", str(exc)) from exc
    params = request.model_dump(exclude={"prompt"})
    pred = entry.predictor
    run = lambda prompts: [pred.generate(p, **params) for p in prompts]  # noqa: E731

    def finish(outputs: list[Any]) -> s.GenerateResponse:
        return s.GenerateResponse(model=entry.spec.name, texts=list(outputs[0]))

    return Call((entry.spec.name, "generate", tuple(sorted(params.items()))), [request.prompt], run, finish)


def next_tokens(entry: ModelEntry, request: s.NextRequest, settings: ServeSettings) -> Call:
    check_text(entry, request.text, "text", settings)
    pred, top_k = entry.predictor, request.top_k
    run = lambda texts: [pred.predict_next(t, top_k=top_k) for t in texts]  # noqa: E731

    def finish(outputs: list[Any]) -> s.NextResponse:
        tokens = [s.TokenProbability(token=t, probability=p) for t, p in outputs[0]]
        return s.NextResponse(model=entry.spec.name, text=request.text, tokens=tokens)

    return Call((entry.spec.name, "next", top_k), [request.text], run, finish)


def _decoding_default(entry: ModelEntry, name: str, fallback: Any) -> Any:
    decoding = getattr(entry.predictor.config, "decoding", None)
    return getattr(decoding, name, fallback) if decoding is not None else fallback


def translate(entry: ModelEntry, request: s.TranslateRequest, settings: ServeSettings) -> Call:
    texts = texts_of(entry, request, settings)
    at_most("beam_size", request.beam_size, settings.max_beam_size, "--max-beam-size")
    at_most("max_length", request.max_length, settings.max_output_tokens, "--max-output-tokens")
    beam = request.beam_size or min(_decoding_default(entry, "beam_size", 1), settings.max_beam_size)
    if request.n_best > beam:
        raise invalid(
            "n_best", f"{request.n_best} hypotheses need beam_size >= {request.n_best} (it is {beam})"
        )
    max_length = request.max_length or min(
        _decoding_default(entry, "max_length", settings.max_output_tokens), settings.max_output_tokens
    )
    if request.min_length is not None and request.min_length > max_length:
        raise invalid("min_length", f"{request.min_length} is more than max_length ({max_length})")
    params = request.model_dump(exclude={"text", "texts"})
    params.update(beam_size=beam, max_length=max_length)
    pred = entry.predictor
    run = lambda xs: pred.translate(list(xs), batch_size=len(xs), **params)  # noqa: E731

    def finish(outputs: list[Any]) -> s.TranslateResponse:
        results = []
        for t in outputs:
            attention = p_gen = None
            if request.return_attention and t.attention is not None:
                attention = [[float(w) for w in row] for row in t.attention]
                p_gen = None if t.generation is None else [float(p) for p in t.generation]
            n_best = [s.Hypothesis(text=text, score=finite(score)) for text, score in (t.n_best or [])]
            results.append(
                s.TranslateResult(
                    text=t.text,
                    tokens=list(t.tokens),
                    source_tokens=list(t.source_tokens),
                    score=finite(t.score),
                    n_best=n_best,
                    attention=attention,
                    p_gen=p_gen,
                )
            )
        return s.TranslateResponse(model=entry.spec.name, results=results)

    return Call((entry.spec.name, "translate", tuple(sorted(params.items()))), texts, run, finish)


def chat(entry: ModelEntry, request: s.ChatRequest, settings: ServeSettings) -> Call:
    """The answer to ``request.turns``: the last turns joined as the model's source or prompt
    (:class:`~seqlab.predictors.chat.Chatbot`); requests with the same controls share a batch."""
    check_text(entry, request.turns[-1], "turns", settings)
    at_most("beam_size", request.beam_size, settings.max_beam_size, "--max-beam-size")
    at_most("max_length", request.max_length, settings.max_output_tokens, "--max-output-tokens")
    beam = request.beam_size or min(_decoding_default(entry, "beam_size", 1), settings.max_beam_size)
    if request.n_best > (settings.max_batch_size if request.sampling else beam):
        limit = "the batch size limit" if request.sampling else f"beam_size ({beam})"
        raise invalid("n_best", f"{request.n_best} answers need at most {limit}")
    max_length = request.max_length or min(
        _decoding_default(entry, "max_length", settings.max_output_tokens), settings.max_output_tokens
    )
    if request.min_length is not None and request.min_length > max_length:
        raise invalid("min_length", f"{request.min_length} is more than max_length ({max_length})")
    params = request.model_dump(exclude={"turns", "context_turns"}, exclude_none=True)
    params.update(beam_size=beam, max_length=max_length)
    bot = Chatbot(entry.predictor, context_turns=request.context_turns, **params)
    source = join_context([turn.strip() for turn in request.turns], bot.context_turns, bot.separator)
    check_text(entry, source, "turns", settings)

    def finish(outputs: list[Any]) -> s.ChatResponse:
        answers = outputs[0]
        return s.ChatResponse(model=entry.spec.name, text=answers[0], source=source, alternatives=answers[1:])

    return Call((entry.spec.name, "chat", tuple(sorted(params.items()))), [source], bot.answers, finish)


OPERATIONS: dict[str, tuple[type, Callable[..., Call]]] = {
    "classify": (s.ClassifyRequest, classify),
    "tag": (s.TagRequest, tag),
    "encode": (s.EncodeRequest, encode),
    "generate": (s.GenerateRequest, generate),
    "next": (s.NextRequest, next_tokens),
    "translate": (s.TranslateRequest, translate),
    "chat": (s.ChatRequest, chat),
}

WARM_UP: dict[str, tuple[str, dict[str, Any]]] = {
    "language_model": ("next", {"text": "the", "top_k": 1}),
    "classifier": ("classify", {"text": "warm up"}),
    "tagger": ("tag", {"text": "warm up"}),
    "seq2seq": ("translate", {"text": "warm up", "beam_size": 1, "max_length": 3}),
}


def build(op: str, entry: ModelEntry, request: Any, settings: ServeSettings) -> Call:
    """The Call for ``op`` on ``entry``; 404 when the model's family has no such operation."""
    if op not in ENDPOINTS[entry.family or ""]:
        answers = ", ".join(ENDPOINTS[entry.family or ""])
        raise ApiError(
            404, "not_found", f"model {entry.spec.name!r} is a {entry.family}: it answers {answers}"
        )
    return OPERATIONS[op][1](entry, request, settings)


def warm_up_call(entry: ModelEntry, settings: ServeSettings) -> Call:
    """A real request of the model's family, run once before the server says it is ready."""
    op, body = WARM_UP[entry.family or ""]
    request = OPERATIONS[op][0](**body)
    unlimited = dataclasses.replace(settings, max_input_tokens=10**6)  # warm-up ignores input limits
    return build(op, entry, request, unlimited)
