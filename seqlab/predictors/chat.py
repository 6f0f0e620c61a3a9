"""A multi-turn chatbot over a trained Seq2Seq or language-model run: it keeps the conversation and
gives the model the last k turns (the user's and its own) joined with the run's turn separator.

A Seq2Seq run answers the joined context as its source (``translate``, with its decoding controls).
A language model reads ``context <turn>`` as its prompt and answers with the continuation up to the
end of the line (``generate`` with ``stop_at_eos``), cut at a turn separator it produces. Both take
the keyword arguments of :meth:`Seq2SeqPredictor.translate` (``beam_size``, ``no_repeat_ngram``,
``sampling``, ...; None keeps the run's ``decoding`` section); a language model maps them onto
``generate`` and refuses the ones it has no use for. ``seqlab chat`` is the terminal loop over this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from seqlab.data.readers.dialogue import join_context
from seqlab.errors import ConfigError

CHAT_TASKS = ("seq2seq", "language_model")

# translate's controls that a language model's generate has no counterpart for
_NOT_FOR_LM = (
    "max_length_ratio",
    "min_length_ratio",
    "alpha",
    "coverage_penalty",
    "length_penalty",
    "replace_unk",
)
_SAMPLING_ONLY = ("temperature", "top_k", "top_p", "seed")


def context_settings(cfg: Any) -> tuple[int, str]:
    """The run's ``(data.context_turns, data.turn_separator)``: how many turns the model reads and
    what joins them (runs from before these keys load with their defaults, 2 and ``<turn>``)."""
    return cfg.data.context_turns, cfg.data.turn_separator


@dataclass(frozen=True)
class ChatReply:
    """One answer: ``text``, the ``source`` the model read (the joined context) and, with n-best or
    several samples, the ``alternatives`` after the best."""

    text: str
    source: str
    alternatives: list[str] = field(default_factory=list)


class Chatbot:
    """A conversation with ``predictor`` (``seqlab.load`` of a Seq2Seq or language-model run).

    ``context_turns`` overrides the run's (>= 1); ``decoding``: keyword arguments of ``translate``.
    :meth:`reply` answers one user turn and remembers both; :meth:`reset` forgets them.
    """

    def __init__(self, predictor: Any, *, context_turns: int | None = None, **decoding: Any) -> None:
        task = predictor.config.task
        if task not in CHAT_TASKS:
            raise ConfigError(
                f"a {task.replace('_', ' ')} run cannot chat: chat needs a seq2seq or language model run"
            )
        turns, self.separator = context_settings(predictor.config)
        self.context_turns = turns if context_turns is None else context_turns
        if (
            isinstance(self.context_turns, bool)
            or not isinstance(self.context_turns, int)
            or self.context_turns < 1
        ):
            raise ConfigError(f"context_turns = {self.context_turns!r}: must be an integer >= 1")
        self.predictor = predictor
        self.decoding = decoding if task == "seq2seq" else lm_generate_kwargs(predictor.config, decoding)
        self.turns: list[str] = []

    def source(self, text: str) -> str:
        """What the model reads to answer ``text`` now: the last turns and ``text``, joined."""
        return join_context([*self.turns, text.strip()], self.context_turns, self.separator)

    def answers(self, sources: Sequence[str]) -> list[list[str]]:
        """The answers to ``sources`` (joined contexts), each a list best first (one unless n-best or
        several samples were asked for); a Seq2Seq run translates them as one batch. Remembers
        nothing."""
        if self.predictor.config.task == "seq2seq":
            found = self.predictor.translate(list(sources), **self.decoding)
            return [[text for text, _ in translation.n_best] for translation in found]
        answers = []
        for source in sources:
            prompt = f"{source} {self.separator}"
            found = self.predictor.generate(prompt, stop_at_eos=True, include_prompt=False, **self.decoding)
            answers.append([answer.split(self.separator, 1)[0].strip() for answer in found])
        return answers

    def reply(self, text: str) -> ChatReply:
        """Answer the user's ``text``; both become turns of the conversation."""
        source = self.source(text)
        (answers,) = self.answers([source])
        self.turns += [text.strip(), answers[0]]
        return ChatReply(answers[0], source, answers[1:])

    def reset(self) -> None:
        """Forget the conversation: the next turn is read on its own."""
        self.turns = []


def lm_generate_kwargs(cfg: Any, decoding: dict[str, Any]) -> dict[str, Any]:
    """``translate``'s keyword arguments as ``generate``'s, for a language model: beam (the run's
    ``decoding.beam_size`` unless given; 1 with ``sampling``), ``n_best`` -> ``num_samples``,
    ``max_length`` -> ``max_tokens``, ``min_length``, ``no_repeat_ngram``, ``repetition_penalty``
    (the run's ``decoding`` section unless given), and the sampling controls with ``sampling``.
    ConfigError naming a control a language model cannot take (length ratios, length penalty,
    coverage penalty, ``replace_unk``)."""
    given = {name: value for name, value in decoding.items() if value is not None}
    refused = [name for name in _NOT_FOR_LM if name in given]
    if refused:
        raise ConfigError(f"{', '.join(refused)}: not for a language model (a Seq2Seq run only)")
    unknown = sorted(set(given) - {*_SAMPLING_ONLY, "sampling", "beam_size", "n_best", "max_length",
                                    "min_length", "no_repeat_ngram", "repetition_penalty"})  # fmt: skip
    if unknown:
        raise ConfigError(f"unknown decoding control(s) {', '.join(unknown)}")
    run = cfg.decoding
    sampling = bool(given.get("sampling", False))
    kwargs: dict[str, Any] = {
        "greedy": not sampling,
        "beam_size": 1 if sampling else given.get("beam_size", run.beam_size),
        "num_samples": given.get("n_best", run.n_best),
        "max_tokens": given.get("max_length", run.max_length),
        "min_length": given.get("min_length", run.min_length) or None,
        "no_repeat_ngram": given.get("no_repeat_ngram", run.no_repeat_ngram) or None,
    }
    penalty = given.get("repetition_penalty", run.repetition_penalty)
    kwargs["repetition_penalty"] = None if penalty == 1.0 else penalty  # 1: off
    if sampling:  # translate's neutral values (top_k 0, top_p 1: off) are generate's None
        neutral = {"top_k": 0, "top_p": 1.0}
        kwargs.update(
            {
                name: given[name]
                for name in _SAMPLING_ONLY
                if name in given and given[name] != neutral.get(name)
            }
        )
    return kwargs
