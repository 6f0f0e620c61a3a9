"""Request and response bodies (pydantic): what the OpenAPI schema documents and every request is
checked against. Unknown fields are refused (422 naming them), so a typo never passes silently.

Range rules that depend on the server's limits (tokens, beam size, batch size) are checked by the
operations in :mod:`seqlab.serve.operations`, which name the field and the limit. The real-valued
decoding controls take their ranges from :mod:`seqlab.ranges` (the ones the processors check):
OpenAPI advertises them and a value outside is a 422 naming the range.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from seqlab.ranges import (
    COVERAGE_PENALTY,
    DIVERSITY_STRENGTH,
    REPETITION_PENALTY,
    TEMPERATURE,
    TOP_P,
    NumberRange,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _in(valid: NumberRange) -> Any:
    """A float field in ``valid``: its bounds in the JSON schema, a 422 naming the range outside it."""

    def check(value: float) -> float:
        if not valid.contains(value):
            raise PydanticCustomError(
                "out_of_range", "must be a number {valid}, not {value}", {"valid": valid.text, "value": value}
            )
        return value

    return Annotated[float, AfterValidator(check), Field(json_schema_extra=valid.json_schema())]


TemperatureValue = _in(TEMPERATURE)
TopPValue = _in(TOP_P)
RepetitionPenaltyValue = _in(REPETITION_PENALTY)
CoveragePenaltyValue = _in(COVERAGE_PENALTY)
DiversityStrengthValue = _in(DIVERSITY_STRENGTH)


# -- requests ----------------------------------------------------------------------------------


class TextsRequest(Strict):
    """Give ``text`` (one string) or ``texts`` (a list of strings), not both."""

    text: str | None = Field(None, description="one input text")
    texts: list[str] | None = Field(None, description="several input texts (at most the batch size limit)")


class ClassifyRequest(TextsRequest):
    explain: bool = Field(False, description="each token's attention weight (attention pooling only)")


class TagRequest(TextsRequest):
    pass


class EncodeRequest(TextsRequest):
    pool: Literal["mean", "max", "last", "attention"] = Field(
        "mean", description="how token states become one vector ('attention': attention classifiers)"
    )


class GenerateRequest(Strict):
    prompt: str = Field(..., description="the text to continue")
    max_tokens: int = Field(50, ge=1, description="tokens to generate (at most the output limit)")
    greedy: bool = Field(False, description="argmax decoding instead of sampling")
    temperature: TemperatureValue | None = None
    top_k: int | None = Field(None, ge=1)
    top_p: TopPValue | None = None
    repetition_penalty: RepetitionPenaltyValue | None = None
    no_repeat_ngram: int | None = Field(None, ge=1)
    min_length: int | None = Field(None, ge=0)
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="for reproducible sampling")
    num_samples: int = Field(1, ge=1, description="continuations to return (at most the batch size limit)")
    stop_at_eos: bool = Field(False, description="stop each sample at its first line end")
    beam_size: int = Field(
        1, ge=1, description="> 1: beam search (no sampling controls; num_samples <= beam_size, best first)"
    )


class NextRequest(Strict):
    text: str = Field(..., description="the context")
    top_k: int = Field(10, ge=1, le=1000, description="how many next tokens to list")


class TranslateRequest(TextsRequest):
    """Decoding controls; a field left out (null) takes the run's ``decoding`` config."""

    beam_size: int | None = Field(None, ge=1, description="beam width (at most the beam limit)")
    n_best: int = Field(1, ge=1, description="hypotheses to return per input (<= beam_size)")
    max_length: int | None = Field(None, ge=1, description="output tokens at most (<= the output limit)")
    max_length_ratio: float | None = Field(None, gt=0)
    min_length: int | None = Field(None, ge=0)
    min_length_ratio: float | None = Field(None, ge=0)
    length_penalty: Literal["none", "average", "gnmt"] | None = None
    alpha: float | None = Field(None, ge=0)
    coverage_penalty: CoveragePenaltyValue | None = None
    no_repeat_ngram: int | None = Field(None, ge=0)
    repetition_penalty: RepetitionPenaltyValue | None = None
    diverse_groups: int | None = Field(
        None, ge=1, description="diverse beam search: groups (divide beam_size)"
    )
    diversity_strength: DiversityStrengthValue | None = None
    sampling: bool = False
    temperature: TemperatureValue = 1.0
    top_k: int = Field(0, ge=0)
    top_p: TopPValue = 1.0
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="for reproducible sampling")
    replace_unk: bool | None = None
    return_attention: bool = Field(False, description="the attention matrix [target][source]")


class ChatRequest(Strict):
    """One turn of a conversation the client keeps: ``turns`` oldest first, the user's new turn last.
    The model reads the last ``context_turns`` of them joined with the run's turn separator (a
    Seq2Seq run as its source, a language model as its prompt). A control left out (null) takes the
    run's ``decoding`` config."""

    turns: list[str] = Field(..., min_length=1, description="the conversation so far, the new user turn last")
    context_turns: int | None = Field(None, ge=1, description="turns the model reads (default: the run's)")
    beam_size: int | None = Field(None, ge=1, description="beam width (at most the beam limit)")
    n_best: int = Field(1, ge=1, description="answers to return (<= beam_size; samples with sampling)")
    max_length: int | None = Field(None, ge=1, description="answer tokens at most (<= the output limit)")
    min_length: int | None = Field(None, ge=0)
    no_repeat_ngram: int | None = Field(None, ge=0)
    repetition_penalty: RepetitionPenaltyValue | None = None
    sampling: bool = False
    temperature: TemperatureValue | None = None
    top_k: int | None = Field(None, ge=0)
    top_p: TopPValue | None = None
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="for reproducible sampling")


# -- responses ---------------------------------------------------------------------------------


class ErrorResponse(BaseModel):
    error: str = Field(..., description="what went wrong, for people")
    type: str = Field(..., description="a stable kind, for programs (e.g. 'empty_input', 'queue_full')")
    field: str | None = Field(None, description="the request field at fault (422 only)")


class ModelHealth(BaseModel):
    status: Literal["loading", "ready", "failed"]
    error: str | None = Field(None, description="why the model failed to load")


class Health(BaseModel):
    status: Literal["live", "ready", "degraded", "loading", "failed", "draining"]
    error: str | None = None
    type: str | None = None
    models: dict[str, ModelHealth] | None = Field(None, description="each model's status (/health/ready)")


class ModelInfo(BaseModel):
    name: str
    family: str | None = Field(None, description="language_model, classifier, tagger or seq2seq")
    ready: bool
    endpoints: list[str] = Field(default_factory=list, description="operations this model answers")
    labels: list[str] | None = None
    explain: bool = Field(False, description="classifier with attention pooling: ?explain gives weights")
    config: dict[str, Any] = Field(default_factory=dict, description="the run's config (file paths left out)")
    error: str | None = None


class ModelsResponse(BaseModel):
    models: list[ModelInfo]


class LabelScore(BaseModel):
    label: str
    probability: float


class TokenWeight(BaseModel):
    token: str
    weight: float


class ClassifyResult(BaseModel):
    text: str
    label: str
    probabilities: list[LabelScore] = Field(..., description="every label, most likely first")
    attention: list[TokenWeight] | None = None


class ClassifyResponse(BaseModel):
    model: str
    results: list[ClassifyResult]


class TaggedToken(BaseModel):
    token: str
    tag: str


class TagResult(BaseModel):
    text: str
    tokens: list[TaggedToken]


class TagResponse(BaseModel):
    model: str
    results: list[TagResult]


class EncodeResponse(BaseModel):
    model: str
    pool: str
    size: int
    vectors: list[list[float]]


class GenerateResponse(BaseModel):
    model: str
    texts: list[str]


class TokenProbability(BaseModel):
    token: str
    probability: float


class NextResponse(BaseModel):
    model: str
    text: str
    tokens: list[TokenProbability]


class Hypothesis(BaseModel):
    text: str
    score: float | None


class TranslateResult(BaseModel):
    text: str
    tokens: list[str]
    source_tokens: list[str]
    score: float | None = Field(..., description="after length and coverage penalties (null if not finite)")
    n_best: list[Hypothesis] = Field(default_factory=list)
    attention: list[list[float]] | None = Field(None, description="[target token][source token]")
    p_gen: list[float] | None = Field(
        None,
        description="copy-attention models, with return_attention: each output token's probability of "
        "being generated from the vocabulary rather than copied from the source",
    )


class TranslateResponse(BaseModel):
    model: str
    results: list[TranslateResult]


class ChatResponse(BaseModel):
    model: str
    text: str = Field(..., description="the answer")
    source: str = Field(..., description="what the model read: the last turns, joined")
    alternatives: list[str] = Field(default_factory=list, description="the other n-best answers or samples")


class Stats(BaseModel):
    requests: int
    batches: int
    texts: int
    mean_batch_size: float
    largest_batch: int
    dropped_after_timeout: int
    in_flight: int
    queued: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in {
        400: "malformed JSON or invalid UTF-8",
        401: "missing or wrong bearer token",
        404: "unknown model, or an operation this model lacks",
        413: "body over the size limit",
        422: "a field is missing, wrong, empty or over a limit",
        429: "queue full: retry after Retry-After seconds",
        503: "model still loading or failed to load, or the server is shutting down",
        504: "decoding took longer than the time limit",
    }.items()
}
