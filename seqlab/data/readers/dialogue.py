"""Dialogues in the DailyDialog format -> context/response pairs.

One dialogue a line, each turn ending with ``__eou__`` (end of utterance)::

    Hi , how are you ? __eou__ Fine , thanks . __eou__ Good to hear . __eou__

Every turn after the first becomes a pair: the source is the context, the last ``context_turns``
turns before it joined by ``" <turn> "`` (the ``turn_separator``), the target is the turn itself.
A dialogue of n turns gives n - 1 pairs. Whitespace inside a turn is collapsed to single spaces; a
final turn without its ``__eou__`` still counts as a turn. A line without any ``__eou__``, or an
empty turn (``__eou__ __eou__``), raises DataError naming file and line, or with
``on_error="skip"`` is skipped and recorded in the report. Blank lines are ignored.

A file is plain UTF-8 text (``.gz`` transparent) or a zip holding one ``dialogues_*.txt`` (the official
``train.zip`` / ``validation.zip``, whose act and emotion files are ignored).
"""

from __future__ import annotations

import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from seqlab.data.readers.lines import decode_utf8, read_lines, split_newlines
from seqlab.data.readers.parallel import PairReport
from seqlab.errors import DataError

END_OF_TURN = "__eou__"
_NOT_DIALOGUE_FILES = ("dialogues_act", "dialogues_emotion", "dialogues_topic")


@dataclass(frozen=True)
class Dialogue:
    """One dialogue: its turns (whitespace collapsed) and where it came from (``file:line``)."""

    turns: tuple[str, ...]
    origin: str


def join_context(turns: Sequence[str], context_turns: int, separator: str) -> str:
    """The source text for the turn after ``turns``: the last ``context_turns`` of them joined by
    ``" SEPARATOR "`` (so a word tokenizer sees the separator as a token of its own)."""
    if context_turns < 1:
        raise ValueError(f"context_turns = {context_turns}: must be >= 1")
    return f" {separator} ".join(turns[-context_turns:])


def parse_dialogue(line: str) -> tuple[str, ...]:
    """The turns of one dialogue line; ValueError saying what is wrong with it."""
    if END_OF_TURN not in line:
        raise ValueError(f"no {END_OF_TURN!r} turn separator (a dialogue is 'turn __eou__ turn __eou__ ...')")
    pieces = line.split(END_OF_TURN)
    if not pieces[-1].strip():  # after the last __eou__: nothing, as it should be
        pieces.pop()
    turns = tuple(" ".join(piece.split()) for piece in pieces)
    for number, turn in enumerate(turns, start=1):
        if not turn:
            raise ValueError(
                f"turn {number} is empty ('{END_OF_TURN}' follows '{END_OF_TURN}' or the line start)"
            )
    return turns


def _zip_lines(path: Path) -> tuple[list[str], str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                name
                for name in archive.namelist()
                if PurePosixPath(name).name.startswith("dialogues_")
                and name.endswith(".txt")
                and not PurePosixPath(name).name.startswith(_NOT_DIALOGUE_FILES)
            ]
            if len(names) != 1:
                raise DataError(
                    f"{path}: expected one dialogues_*.txt file in the zip (besides act/emotion/topic "
                    f"files), found {len(names)}: {', '.join(names) or 'none'}; members: "
                    f"{', '.join(archive.namelist()[:10])}"
                )
            where = f"{path}:{names[0]}"
            return split_newlines(decode_utf8(archive.read(names[0]), where)), where
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path}: not a readable zip file: {exc}") from None


def dialogue_lines(path: str | Path) -> tuple[list[str], str]:
    """The lines of a dialogue file and the name to cite them by (``ZIP:MEMBER`` inside a zip)."""
    path = Path(path)
    if path.suffix == ".zip" or (path.is_file() and zipfile.is_zipfile(path)):
        return _zip_lines(path)
    return read_lines(path), str(path)


@dataclass
class DialogueReport:
    """The dialogues read and the malformed lines skipped under ``on_error="skip"`` (each
    ``file:line: problem``)."""

    dialogues: list[Dialogue]
    skipped: list[str]


def read_dialogues(path: str | Path, on_error: str = "fail") -> DialogueReport:
    """Every dialogue of ``path`` (text or zip); a malformed line raises DataError naming file and
    line, or with ``on_error="skip"`` is skipped and recorded."""
    if on_error not in ("fail", "skip"):
        raise DataError(f"on_error = {on_error!r}: must be one of fail, skip")
    lines, where = dialogue_lines(path)
    report = DialogueReport([], [])
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            turns = parse_dialogue(line)
        except ValueError as exc:
            problem = f"{where}:{number}: {exc}"
            if on_error == "fail":
                raise DataError(f"{problem} (data.on_error: skip skips such lines)") from None
            report.skipped.append(problem)
            continue
        report.dialogues.append(Dialogue(turns, f"{where}:{number}"))
    return report


def dialogue_pairs(
    report: DialogueReport,
    context_turns: int,
    separator: str,
    exclude: Collection[tuple[str, ...]] = (),
) -> PairReport:
    """Context -> next-turn pairs of every dialogue (n - 1 for n turns), without the dialogues whose
    turns are in ``exclude`` (e.g. validation dialogues that also occur in the training file)."""
    pairs = PairReport(skipped=list(report.skipped))
    for dialogue in report.dialogues:
        if dialogue.turns in exclude:
            continue
        for index in range(1, len(dialogue.turns)):
            context = join_context(dialogue.turns[:index], context_turns, separator)
            pairs.add(context, dialogue.turns[index], f"{dialogue.origin} (turn {index + 1})")
    return pairs


def read_dialogue_pairs(
    path: str | Path, context_turns: int, separator: str, on_error: str = "fail"
) -> PairReport:
    """The context -> next-turn pairs of one dialogue file (see the module docstring)."""
    return dialogue_pairs(read_dialogues(path, on_error), context_turns, separator)


__all__ = [
    "END_OF_TURN",
    "Dialogue",
    "DialogueReport",
    "dialogue_lines",
    "dialogue_pairs",
    "join_context",
    "parse_dialogue",
    "read_dialogue_pairs",
    "read_dialogues",
]
