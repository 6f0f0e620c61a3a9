"""The language-model predictor: generate, predict the next token, score lines, perplexity, encode."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqlab.config import ExperimentConfig, load_config
from seqlab.data.batching.bptt import BPTTBatcher
from seqlab.data.corpora.lm import encode_lines, line_ids
from seqlab.data.corpora.lm_lines import line_loader
from seqlab.decoding.chain import build_processors
from seqlab.decoding.options import SearchOptions
from seqlab.errors import ConfigError
from seqlab.models.evaluation import evaluate_model as evaluate
from seqlab.models.factory import build_model
from seqlab.models.line_start import load_line_start
from seqlab.models.pooling import pool as pool_states
from seqlab.predictors.common import check_pool, check_run, chunks, load_weights
from seqlab.predictors.generation import check_beam, continuations, ended_early
from seqlab.rundir.names import CONFIG_FILE, TOKENIZER_DIR, VOCAB_FILE
from seqlab.text.tokenizers import Tokenizer, load_tokenizer
from seqlab.text.vocab import Vocabulary


@dataclass(frozen=True)
class LineScore:
    """Log-probability (natural log) of a line and its end, the token count, and its perplexity."""

    text: str
    logprob: float
    tokens: int

    @property
    def perplexity(self) -> float:
        return math.exp(-self.logprob / max(self.tokens, 1))


class LanguageModelPredictor:
    """A trained LSTM language model: generate, predict the next token, score lines, perplexity."""

    def __init__(self, run_dir: str | Path, device: str = "cpu", verify: bool = True) -> None:
        """Load ``run_dir``, its files checked against its manifests unless ``verify`` is False."""
        self.run_dir = Path(run_dir)
        check_run(self.run_dir, verify)
        self.config: ExperimentConfig = load_config(self.run_dir / CONFIG_FILE)
        self.tokenizer: Tokenizer = load_tokenizer(self.run_dir / TOKENIZER_DIR)
        self.vocab: Vocabulary = Vocabulary.load(self.run_dir / VOCAB_FILE)
        self.device = torch.device(device)
        self.model = build_model(self.config, len(self.vocab))
        load_weights(self.run_dir, self.model)
        self.model.to(self.device).eval()
        if self.config.data.lm_mode == "stream":
            # an estimated line-start state, when one was saved (bench/lm_line_start.py --save)
            self.model.line_start = load_line_start(self.run_dir, self.model)

    # -- text <-> ids ---------------------------------------------------------------------------
    def _context_ids(self, text: str) -> list[int]:
        """The prompt as ids, after an end-of-line token: training streams put ``<eos>`` between lines,
        so it is the natural start of a line."""
        return [self.vocab.eos_id] + self.vocab.encode(self.tokenizer.tokenize(text))

    def _render(self, ids: Sequence[int]) -> str:
        lines, current = [], []
        for token_id in ids:
            if token_id == self.vocab.eos_id:
                lines.append(self.tokenizer.detokenize(current))
                current = []
            else:
                current.extend(self.vocab.decode([token_id]))
        if current:
            lines.append(self.tokenizer.detokenize(current))
        return "\n".join(lines)

    def _banned_ids(self, allow_unk: bool) -> list[int]:
        banned = [self.vocab.pad_id, self.vocab.bos_id]
        return banned if allow_unk else banned + [self.vocab.unk_id]

    # -- abilities ------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self,
        prompt: str = "",
        max_tokens: int = 100,
        *,
        greedy: bool = False,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        repetition_penalty: float | None = None,
        no_repeat_ngram: int | None = None,
        min_length: int | None = None,
        seed: int | None = None,
        stop_at_eos: bool = False,
        num_samples: int = 1,
        allow_unk: bool = False,
        beam_size: int = 1,
        diverse_groups: int = 1,
        diversity_strength: float = 0.0,
        include_prompt: bool = True,
    ) -> list[str]:
        """Continue ``prompt`` by up to ``max_tokens`` tokens; returns ``num_samples`` continuations
        (the prompt included unless ``include_prompt`` is False). Line ends the model produces come
        back as newlines. ``<pad>`` and ``<bos>`` are never produced, nor ``<unk>`` unless
        ``allow_unk``. A continuation whose every next token is banned (e.g. ``no_repeat_ngram=1``
        once the vocabulary is used up) ends there, on an end of line (``<eos>``). ``beam_size`` > 1
        is beam search (length penalty from the run's ``decoding`` section; no sampling controls):
        the ``num_samples`` best beams, best first; ``diverse_groups`` / ``diversity_strength`` make
        it diverse beam search.
        """
        for name, value in (("max_tokens", max_tokens), ("num_samples", num_samples)):
            if value < 1:
                raise ConfigError(f"{name} = {value}: must be >= 1")
        check_beam(beam_size, num_samples, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
        build_processors(temperature=temperature, top_k=top_k, top_p=top_p)  # checked even when greedy
        context = self._context_ids(prompt)
        processors = build_processors(
            repetition_penalty=repetition_penalty,
            no_repeat_ngram=no_repeat_ngram,
            min_length=min_length,
            eos_id=self.vocab.eos_id,
            prompt_length=len(context),
            banned=self._banned_ids(allow_unk),
        )
        opts = self._search_options(beam_size, num_samples, greedy, temperature, top_k, top_p, seed)
        opts = dataclasses.replace(opts, diverse_groups=diverse_groups, diversity_strength=diversity_strength)
        rows = 1 if beam_size > 1 else num_samples
        prompt_ids = torch.tensor([context] * rows, dtype=torch.long, device=self.device)
        found = continuations(
            self.model, prompt_ids, max_tokens, opts, processors, self.vocab.eos_id,
            stop_at_eos=stop_at_eos, banned_id=self.vocab.pad_id,  # <pad>: never produced (banned)
        )  # fmt: skip
        hypotheses = found[0] if beam_size > 1 else [hyps[0] for hyps in found]
        texts = []
        for hyp in hypotheses:
            new = list(hyp.tokens)
            if not stop_at_eos and ended_early(hyp, max_tokens):
                new.append(self.vocab.eos_id)  # every token was banned: the line ends there
            texts.append(self._render(context[1:] + new if include_prompt else new))
        return texts

    def _search_options(
        self,
        beam_size: int,
        num_samples: int,
        greedy: bool,
        temperature: float | None,
        top_k: int | None,
        top_p: float | None,
        seed: int | None,
    ) -> SearchOptions:
        """:meth:`generate`'s search: beam (the run's length penalty), greedy or sampling."""
        decoding = self.config.decoding
        return SearchOptions(
            beam_size=beam_size, n_best=num_samples if beam_size > 1 else 1,
            length_penalty=decoding.length_penalty, alpha=decoding.alpha, min_length=0,
            sampling=not greedy and beam_size == 1, temperature=1.0 if temperature is None else temperature,
            top_k=top_k or 0, top_p=1.0 if top_p is None else top_p, seed=seed,
        )  # fmt: skip

    @torch.no_grad()
    def predict_next(self, text: str, top_k: int = 5) -> list[tuple[str, float]]:
        """The ``top_k`` most likely next tokens after ``text``, with their probabilities."""
        if top_k < 1:
            raise ConfigError(f"top_k = {top_k}: must be >= 1")
        ids = torch.tensor([self._context_ids(text)], dtype=torch.long, device=self.device)
        logits, _ = self.model(ids)
        probs = torch.softmax(logits[0, -1].float(), dim=-1)
        values, indices = probs.topk(min(top_k, probs.numel()))
        return [
            (self.vocab.decode([i], skip_special=False)[0], float(p))
            for p, i in zip(values.tolist(), indices.tolist())
        ]

    @torch.no_grad()
    def score(self, lines: Iterable[str]) -> list[LineScore]:
        """Log-probability of each line and its end-of-line token, each line on its own."""
        results = []
        for line in lines:
            ids = self._context_ids(line) + [self.vocab.eos_id]
            tensor = torch.tensor([ids], dtype=torch.long, device=self.device)
            logits, _ = self.model(tensor[:, :-1])
            logprobs = torch.log_softmax(logits[0].float(), dim=-1)
            picked = logprobs.gather(1, tensor[0, 1:].unsqueeze(1)).sum()
            results.append(LineScore(line, float(picked), len(ids) - 1))
        return results

    @torch.no_grad()
    def token_log_probs(self, lines: Sequence[str], batch_size: int = 64) -> list[list[float]]:
        """Per line the log-probability (natural log) of each of its tokens and then of its end of
        line, read as :meth:`score` reads it (after a line start; the sum is its ``logprob``), in
        right-padded batches of ``batch_size`` lines (a left-to-right model never sees the padding)."""
        results: list[list[float]] = []
        for chunk in chunks(list(lines), batch_size):
            ids = [self._context_ids(line) + [self.vocab.eos_id] for line in chunk]
            tokens = torch.full((len(ids), max(map(len, ids))), self.vocab.pad_id, dtype=torch.long)
            for row, seq in enumerate(ids):
                tokens[row, : len(seq)] = torch.tensor(seq)
            tokens = tokens.to(self.device)
            logits, _ = self.model(tokens[:, :-1])
            picked = torch.log_softmax(logits.float(), dim=-1).gather(2, tokens[:, 1:].unsqueeze(2))
            rows = picked.squeeze(2).cpu().tolist()
            results.extend(row[: len(seq) - 1] for row, seq in zip(rows, ids, strict=True))
        return results

    @torch.no_grad()
    def perplexity(self, lines: Sequence[str], batch_size: int | None = None) -> dict[str, float]:
        """Corpus perplexity of ``lines`` read the way validation reads them: as one stream, or
        (``lm_mode: lines``) each line from a fresh state (``batch_size`` is then unused)."""
        data = self.config.data
        if data.lm_mode == "lines":
            tokenize = self.tokenizer.tokenize
            ids = line_ids((tokenize(line) for line in lines), self.vocab)
            loader = line_loader(data, self.vocab, ids, shuffle=False)
            return evaluate(self.model, loader, self.device)
        ids = encode_lines(lines, self.tokenizer, self.vocab, self.config.data.add_eos)
        batch_size = batch_size or self.config.data.eval_batch_size
        batch_size = max(1, min(batch_size, (len(ids) - 1) // 2))
        batcher = BPTTBatcher(ids, batch_size, self.config.data.bptt)
        self.model.reset_carry()
        metrics = evaluate(self.model, batcher, self.device)  # the Trainer's own validation loop
        self.model.reset_carry()
        return metrics

    @torch.no_grad()
    def encode(self, texts: Sequence[str], pool: str = "mean", batch_size: int = 64) -> np.ndarray:
        """Sentence vectors float32 [N, H]: the last LSTM layer's states over each text's tokens
        (read after a line start, as in training), pooled with ``pool`` ('mean', 'max', 'last').

        A left-to-right model never looks ahead, so right padding changes no real position.
        """
        check_pool(pool)
        captured: list[torch.Tensor] = []
        hook = self.model.decoder.register_forward_pre_hook(lambda _, args: captured.append(args[0]))
        parts = []
        try:
            for chunk in chunks(list(texts), batch_size):
                ids = [self._context_ids(text) for text in chunk]
                lengths = torch.tensor([len(row) for row in ids])
                tokens = torch.full((len(ids), int(lengths.max())), self.vocab.pad_id, dtype=torch.long)
                for row, seq in enumerate(ids):
                    tokens[row, : len(seq)] = torch.tensor(seq)
                captured.clear()
                self.model(tokens.to(self.device))
                states = captured[0]  # [B, T, H]
                # the text's own positions (after the line start); an empty text keeps the start
                empty = (lengths == 1).to(states.device)
                shifted = torch.cat([states[:, 1:], states[:, :1]], dim=1)
                shifted[:, 0] = torch.where(empty.unsqueeze(1), states[:, 0], shifted[:, 0])
                states, lengths = shifted, (lengths - 1).clamp(min=1)
                parts.append(pool_states(states, lengths, pool).float().cpu().numpy())
        finally:
            hook.remove()
        return np.concatenate(parts) if parts else np.zeros((0, self.config.model.hidden_size), np.float32)
