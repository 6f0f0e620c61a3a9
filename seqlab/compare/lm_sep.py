"""The "LSTM" side of the comparison: one language model over ``source <sep> target`` lines.

Training data: each pair becomes one line of space-separated tokens, the source's tokens (its own
tokenizer), ``<sep>``, then the target's tokens (its tokenizer); whitespace and ``%`` inside a token
are written as URL escapes (``%20``) so the line splits back into exactly the same tokens (until
2026-12-07 whitespace became ``▁``, which is also sentencepiece's word-start mark: reading it back
as a space banned every word-start piece from the output, and lm_sep on sentencepiece answered
with nothing; runs trained then read the same, as their pieces held no whitespace). The lines go to
an ordinary language-model run in ``lm_mode: lines`` (word tokenizer, each line read from a fresh
state as ``<eos> source <sep> target`` predicting ``source <sep> target <eos>``; ``lm_loss`` all
or target), so the contender's run directory is a normal LM run that ``seqlab generate`` and
friends read; ``pairs/`` beside it keeps the pair tokenizers.

Decoding: :class:`~seqlab.predictors.prompted.PromptedLanguageModel` speaks the encoder-decoder
decoding protocol, so the same beam search and settings as the Seq2Seq contenders apply. Its
``encode`` reads each prompt (``<eos>`` as the line start, the source tokens, then ``<sep>``, which
plays ``<bos>``) from the model's line-start state (zeros, the state every training line started
from) and keeps each row's state after its own last token; the search stops at ``<eos>``. A run trained as one
stream (before line mode) never saw that start; it loads with a warning that says how to retrain. Like a
Seq2Seq decoder, whose output layer only has target tokens, it may only produce tokens seen on the
target side in training.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import torch

from seqlab.compare.spec import LM_SEPARATOR, lm_pair_files
from seqlab.config import ExperimentConfig
from seqlab.data.corpora.seq2seq import Seq2SeqPipeline, fit_pipeline, read_seq2seq_splits
from seqlab.decoding.beam import beam_search
from seqlab.decoding.chain import build_processors
from seqlab.decoding.penalties import LengthPenalty
from seqlab.decoding.processors import LogitsProcessor
from seqlab.decoding.step import length_limits
from seqlab.errors import CheckpointError, DataError
from seqlab.predictors.prompted import PromptedLanguageModel
from seqlab.rundir.files import atomic_write_bytes

logger = logging.getLogger(__name__)

SEP = LM_SEPARATOR
PAIRS_DIR = "pairs"
_ESCAPED = re.compile(r"[%\s]")
EMPTY = "%20"
"""What an empty token is written as (a single space, as before the percent escapes)."""


def escape(token: str) -> str:
    """A token without whitespace, never empty: ``%`` and each whitespace character written as its
    UTF-8 bytes in ``%XX`` (URL escapes), so :func:`unescape` gives the token back exactly. Nothing
    else changes: sentencepiece's word-start mark ``▁`` is an ordinary character here."""
    return _ESCAPED.sub(lambda match: quote(match.group(), safe=""), token) or EMPTY


def unescape(token: str) -> str:
    """The token :func:`escape` wrote (every ``%`` in it starts an escape)."""
    return unquote(token, errors="strict")


def pair_line(source_tokens: Sequence[str], target_tokens: Sequence[str]) -> str:
    """``s1 s2 ... <sep> t1 t2 ...``; DataError if a token is ``<sep>`` itself."""
    if SEP in source_tokens or SEP in target_tokens:
        raise DataError(f"a pair holds the token {SEP!r}, which separates source and target for lm_sep")
    return " ".join([*(escape(t) for t in source_tokens), SEP, *(escape(t) for t in target_tokens)])


@dataclass(frozen=True)
class LMPairData:
    """What :func:`prepare_lm_data` wrote: line counts and the target share of the token stream."""

    train_lines: int
    valid_lines: int
    target_fraction: float  # (target tokens + <eos>) / all tokens of the training stream
    source_truncate: int | None = None  # the pairs' data.source_truncate, which decoding applies too


def prepare_lm_data(data_cfg: ExperimentConfig, run_dir: str | Path) -> LMPairData:
    """Read the pairs of a seq2seq config (the same splits as the Seq2Seq contenders), fit the pair
    tokenizers on the training pairs into ``run_dir/pairs``, and write the LM's training and
    validation lines there. Training pairs over ``data.max_source_length`` / ``max_target_length``
    are left out, as the Seq2Seq contenders leave them out.

    The lines are shuffled (seeded by ``training.seed``), so that a contender run with
    ``lm_mode: stream`` (which carries its state from line to line) does not learn to copy the
    previous line of a sorted file (a dictionary)."""
    run_dir = Path(run_dir)
    train, valid = read_seq2seq_splits(data_cfg)
    if not train.pairs or not valid.pairs:
        raise DataError("lm_sep: no training or no validation pairs")
    pipeline = fit_pipeline(data_cfg, train.pairs, run_dir / PAIRS_DIR)
    limits = (data_cfg.data.max_source_length, data_cfg.data.max_target_length)
    lines: dict[str, list[str]] = {"train": [], "valid": []}
    target_tokens = all_tokens = 0
    for split, pairs in (("train", train.pairs), ("valid", valid.pairs)):
        for pair in pairs:
            source = pipeline.source_tokens(pair.source)
            target = pipeline.target_tokens(pair.target)
            if split == "train":
                if (limits[0] and len(source) > limits[0]) or (limits[1] and len(target) > limits[1]):
                    continue
                target_tokens += len(target) + 1
                all_tokens += len(source) + len(target) + 2
            lines[split].append(pair_line(source, target))
    for split in lines:
        random.Random(f"{data_cfg.training.seed}-{split}").shuffle(lines[split])
    train_path, valid_path = lm_pair_files(run_dir)
    for path, split in ((train_path, "train"), (valid_path, "valid")):
        atomic_write_bytes(path, ("\n".join(lines[split]) + "\n").encode("utf-8"))
    return LMPairData(
        len(lines["train"]),
        len(lines["valid"]),
        target_tokens / max(all_tokens, 1),
        data_cfg.data.source_truncate,
    )


@dataclass(frozen=True)
class LMTranslation:
    """One decoded output, with the attributes the comparison reads from a Seq2Seq ``Translation``."""

    text: str
    tokens: list[str]
    source_tokens: list[str]
    score: float
    attention: None = None


class LMSepTranslator:
    """Decode a trained ``lm_sep`` contender like a Seq2Seq model: ``translate(texts, ...)``."""

    family = "lm_sep"

    def __init__(self, run_dir: str | Path, device: str = "cpu", source_truncate: int | None = None) -> None:
        """``source_truncate``: the one the training lines were written with (:class:`LMPairData`)."""
        from seqlab.predictors.language_model import LanguageModelPredictor

        run_dir = Path(run_dir)
        if not (run_dir / PAIRS_DIR).is_dir():
            raise CheckpointError(f"{run_dir}: no {PAIRS_DIR}/ here; not an lm_sep contender run")
        self.predictor = LanguageModelPredictor(run_dir, device)
        self.pipeline = Seq2SeqPipeline.load(run_dir / PAIRS_DIR, source_truncate)
        vocab = self.predictor.vocab
        if SEP not in vocab.stoi:
            raise CheckpointError(f"{run_dir}: the vocabulary has no {SEP}; not an lm_sep contender run")
        self.vocab = vocab
        self.device = self.predictor.device
        self.model = PromptedLanguageModel(
            self.predictor.model, bos_id=vocab.stoi[SEP], eos_id=vocab.eos_id, pad_id=vocab.pad_id,
            line_start=vocab.eos_id, then=vocab.stoi[SEP],
        )  # fmt: skip
        self.config = self.predictor.config
        if self.config.data.lm_mode != "lines":
            logger.warning(
                "%s was trained with lm_mode: %s (its state carried from line to line), so no line "
                "started from the state its prompts start from; its outputs understate it. Retrain "
                "the contender (seqlab compare SPEC -o NEW_DIR): lm_sep now trains each pair as its "
                "own line.",
                run_dir,
                self.config.data.lm_mode,
            )
        self._banned = self.non_target_ids()

    def non_target_ids(self) -> list[int]:
        """LM ids that never occur on the target side of a training pair (source-only tokens,
        ``<bos>``, ``<unk>``): the search may not produce them, as a Seq2Seq decoder, whose output
        layer holds target tokens only, cannot. (``<pad>`` and ``<sep>`` the search bans itself.)"""
        target = self.pipeline.target_vocab.stoi
        specials = {self.vocab.pad_id, self.vocab.unk_id, self.vocab.bos_id}
        return [
            index
            for token, index in self.vocab.stoi.items()
            if index != self.vocab.eos_id and (index in specials or unescape(token) not in target)
        ]

    def _processors(self, no_repeat_ngram: int) -> LogitsProcessor:
        return build_processors(no_repeat_ngram=no_repeat_ngram or None, banned=self._banned)

    @torch.no_grad()
    def translate(
        self,
        texts: str | Sequence[str],
        *,
        beam_size: int = 5,
        length_penalty: str = "gnmt",
        alpha: float = 0.6,
        max_length: int = 200,
        max_length_ratio: float | None = None,
        no_repeat_ngram: int = 0,
        batch_size: int = 64,
        return_attention: bool = False,
    ) -> list[LMTranslation]:
        """Beam-search each text's target after ``source <sep>``; same settings as the Seq2Seq
        predictor's ``translate``. ``return_attention`` is accepted; a language model has none."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        penalty = LengthPenalty(length_penalty, alpha)
        processors = self._processors(no_repeat_ngram)
        results: list[LMTranslation] = []
        for start in range(0, len(texts), batch_size):
            results.extend(
                self._translate_batch(
                    texts[start : start + batch_size],
                    beam_size,
                    penalty,
                    processors,
                    max_length,
                    max_length_ratio,
                )
            )
        return results

    def _translate_batch(
        self,
        texts: list[str],
        beam_size: int,
        penalty: LengthPenalty,
        processors: LogitsProcessor,
        max_length: int,
        max_length_ratio: float | None,
    ) -> list[LMTranslation]:
        sources = [self.pipeline.source_tokens(text) for text in texts]
        ids = [self.vocab.encode([escape(t) for t in tokens]) for tokens in sources]
        lengths = torch.tensor([len(row) for row in ids], dtype=torch.long)
        src = torch.full((len(ids), int(lengths.max())), self.vocab.pad_id, dtype=torch.long)
        for row, seq in enumerate(ids):
            src[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        src, lengths = src.to(self.device), lengths.to(self.device)
        memory = self.model.encode(src, lengths)
        max_lengths, min_lengths = length_limits(
            lengths, max_length=max_length, max_length_ratio=max_length_ratio
        )
        best = beam_search(
            self.model,
            memory,
            self.model.start_state(memory),
            beam_size=beam_size,
            max_lengths=max_lengths,
            min_lengths=min_lengths,
            length_penalty=penalty,
            processors=processors,
            bos_id=self.model.bos_id,
            eos_id=self.model.eos_id,
        )
        outputs = []
        for source, hyps in zip(sources, best):
            tokens = [unescape(t) for t in self.vocab.decode(hyps[0].tokens)]
            text = self.pipeline.target_text(tokens)
            outputs.append(LMTranslation(text, tokens, list(source), hyps[0].score))
        return outputs
