"""A trained Seq2Seq model: translate (greedy, beam, sampling) with attention, evaluate, encode."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from seqlab.config import ExperimentConfig, load_config
from seqlab.data.batching.seq2seq import Seq2SeqLoader
from seqlab.data.corpora.seq2seq import Seq2SeqPipeline, encode_pairs
from seqlab.data.readers.parallel import Pair
from seqlab.decoding import Hypothesis, replace_unk
from seqlab.decoding.batched import decode_ids
from seqlab.decoding.options import SearchOptions
from seqlab.errors import ConfigError, DataError
from seqlab.metrics import sequences as seq_metrics
from seqlab.metrics.references import DEFAULT_SCORES, group_references, score_outputs
from seqlab.models.evaluation import evaluate_model
from seqlab.models.factory import build_model
from seqlab.models.pooling import pool as pool_states
from seqlab.models.quantize import int8_refusal, quantize_seq2seq
from seqlab.predictors.common import check_pool, check_run, chunks, load_weights
from seqlab.predictors.language_model import LanguageModelPredictor
from seqlab.predictors.mmi import MMIReranker, check_mmi_search, load_language_model, rerank_order
from seqlab.text.extended_vocab import SourceCopy, extend_source
from seqlab.text.padding import pad_batch


@dataclass(frozen=True)
class Translation:
    """One output: ``text`` and its ``tokens``, the ``source_tokens`` the model read, the search
    ``score``, the attention ``[T][S]`` (one row per output token; with ``return_attention`` and an
    attention model, else None), the ``n_best`` list of ``(text, score)``, best first, and for a
    copy-attention model with ``return_attention`` the generation probability p_gen of each output
    token (``generation``: 1 = from the vocabulary, 0 = copied from the source), else None."""

    text: str
    tokens: list[str]
    source_tokens: list[str]
    score: float
    attention: list[list[float]] | None = None
    n_best: list[tuple[str, float]] = field(default_factory=list)
    generation: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"text": self.text, "score": self.score}
        if len(self.n_best) > 1:
            record["n_best"] = [[text, score] for text, score in self.n_best]
        if self.attention is not None:
            record.update(source_tokens=self.source_tokens, tokens=self.tokens, attention=self.attention)
        if self.generation is not None:
            record["p_gen"] = self.generation
        return record


@dataclass
class Seq2SeqEvaluation:
    """Scores of a model on pairs: ``summary`` (the ``scores`` asked for, by default bleu, chrf,
    rouge1/2/L, per, wer, exact_match; plus length_ratio), sacreBLEU ``signatures``, ``buckets``
    (quality by source length: rows of :func:`seqlab.metrics.sequences.length_buckets` for
    ``bucket_metric``), ``count`` sources and the outputs themselves."""

    summary: dict[str, float]
    signatures: dict[str, str]
    buckets: list[dict]
    bucket_metric: str
    count: int
    hypotheses: list[str]
    unit: str = "sources"


class Seq2SeqPredictor:
    """``seqlab.load(run_dir)`` for a Seq2Seq run."""

    family = "seq2seq"

    def __init__(
        self, run_dir: str | Path, device: str = "cpu", verify: bool = True, int8: bool | None = None
    ) -> None:
        """Load ``run_dir``, its files checked against its manifests unless ``verify`` is False.

        ``int8``: decode with int8 matrix products (:mod:`seqlab.models.quantize`); None takes the
        run's ``decoding.int8``. Asked for here where it does not apply (a GPU device, a GRU), it
        is refused with a ConfigError; asked for by the run's config, it warns in one line and the
        model decodes in float32. ``config.decoding.int8`` says which one the model does."""
        self.run_dir = Path(run_dir)
        check_run(self.run_dir, verify)
        config: ExperimentConfig = load_config(self.run_dir / "config.yaml")
        self.pipeline = Seq2SeqPipeline.load(self.run_dir, config.data.source_truncate)
        self.device = torch.device(device)
        self.model = build_model(
            config, len(self.pipeline.source_vocab), target_vocab_size=len(self.pipeline.target_vocab)
        )
        load_weights(self.run_dir, self.model)
        self.model.eval()  # int8 is decided and packed on the CPU, before the model moves
        self.int8 = self._quantize(config.decoding.int8 if int8 is None else int8, asked=int8 is not None)
        self.model.to(self.device)
        self.config = dataclasses.replace(
            config, decoding=dataclasses.replace(config.decoding, int8=self.int8)
        )
        self._language_models: dict[str, LanguageModelPredictor] = {}  # MMI reranking's, by run

    def _quantize(self, wanted: bool, asked: bool) -> bool:
        """Put the model in int8 when ``wanted`` and it applies; whether it did (see ``__init__``)."""
        if not wanted:
            return False
        reason = int8_refusal(self.model, self.device)
        if reason is not None:
            if asked:
                raise ConfigError(f"int8: {reason}")
            warnings.warn(
                f"{self.run_dir}: decoding.int8 = true: {reason}; decoding in float32", stacklevel=3
            )
            return False
        quantize_seq2seq(self.model)
        return True

    @property
    def source_pipeline(self) -> Any:
        """The source side: ``(tokenizer, vocabulary)``."""
        return self.pipeline.source_tokenizer, self.pipeline.source_vocab

    @property
    def target_pipeline(self) -> Any:
        """The target side: ``(tokenizer, vocabulary)``."""
        return self.pipeline.target_tokenizer, self.pipeline.target_vocab

    @property
    def has_attention(self) -> bool:
        return self.config.model.attention != "none"

    @property
    def copies(self) -> bool:
        """Whether the model has copy attention (outputs may be source words outside its vocabulary)."""
        return self.config.model.copy_attention

    # -- translation -----------------------------------------------------------------------------
    def _render(
        self, hyp: Hypothesis, source_tokens: list[str], replace: bool, copy: SourceCopy | None = None
    ) -> tuple[str, list[str]]:
        vocab = self.pipeline.target_vocab
        tokens = vocab.decode(hyp.tokens) if copy is None else copy.decode(hyp.tokens, vocab)
        if replace and hyp.attention is not None:
            tokens = replace_unk(tokens, source_tokens, hyp.attention)
        return self.pipeline.target_text(tokens), tokens

    def translate(
        self,
        texts: str | Sequence[str],
        *,
        beam_size: int | None = None,
        n_best: int = 1,
        max_length: int | None = None,
        max_length_ratio: float | None = None,
        min_length: int | None = None,
        min_length_ratio: float | None = None,
        length_penalty: str | None = None,
        alpha: float | None = None,
        coverage_penalty: float | None = None,
        no_repeat_ngram: int | None = None,
        repetition_penalty: float | None = None,
        diverse_groups: int | None = None,
        diversity_strength: float | None = None,
        sampling: bool = False,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int | None = None,
        replace_unk: bool | None = None,
        return_attention: bool = False,
        batch_size: int | None = None,
        progress: bool = False,
        mmi_lm: str | Path | LanguageModelPredictor | None = None,
        mmi_lambda: float | None = None,
        mmi_gamma: int | None = None,
        mmi_length_weight: float | None = None,
    ) -> list[Translation]:
        """Translate one text or many (batched, length-sorted; results in input order).

        ``None`` keeps the run's ``decoding`` setting. ``sampling`` draws each token (temperature,
        top-k, top-p; ``seed`` for reproducible draws) instead of searching. ``return_attention``
        adds each output's attention weights (attention models only). ``diverse_groups`` /
        ``diversity_strength``: diverse beam search (:mod:`seqlab.decoding.diversity`). ``mmi_lm``
        (a language-model run directory, or its loaded predictor) reranks each source's n-best list
        (the whole beam) by MMI anti-LM (:mod:`seqlab.predictors.mmi`; ``mmi_lambda``, ``mmi_gamma``,
        ``mmi_length_weight``: None keeps the run's setting); the scores are then the MMI scores.

        Over 60 lines because its 26 keyword arguments (the decoding controls of ``translate`` and the
        server) each take a line in the signature and again in :meth:`SearchOptions.from_config`.
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        decoding = self.config.decoding
        opts = SearchOptions.from_config(
            decoding,
            beam_size=beam_size,
            n_best=n_best,
            max_length=max_length,
            max_length_ratio=max_length_ratio,
            min_length=min_length,
            min_length_ratio=min_length_ratio,
            length_penalty=length_penalty,
            alpha=alpha,
            coverage_penalty=coverage_penalty,
            no_repeat_ngram=no_repeat_ngram,
            repetition_penalty=repetition_penalty,
            diverse_groups=diverse_groups,
            diversity_strength=diversity_strength,
            sampling=sampling,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            seed=seed,
        )
        if opts.n_best > opts.beam_size and not opts.sampling:
            raise ConfigError(f"n_best = {opts.n_best}: at most beam_size ({opts.beam_size})")
        reranker = self._mmi(opts, mmi_lm, mmi_lambda, mmi_gamma, mmi_length_weight)
        shown = opts.n_best
        if reranker is not None:
            opts = dataclasses.replace(opts, n_best=opts.beam_size)  # rerank the whole beam
        replace = decoding.replace_unk if replace_unk is None else replace_unk
        batch_size = batch_size or decoding.batch_size
        source_tokens = [self.pipeline.source_tokens(t) for t in items]
        sources = [self.pipeline.source_vocab.encode(tokens) for tokens in source_tokens]
        target_vocab = self.pipeline.target_vocab
        copies = [extend_source(tokens, target_vocab) if self.copies else None for tokens in source_tokens]
        copy_ids = [c.ids for c in copies if c is not None] if self.copies else None
        bar = tqdm(total=len(items), unit="sent", desc="translate", disable=not progress or None)
        try:
            found = decode_ids(
                self.model, sources, opts, batch_size, progress=bar.update, copy_sources=copy_ids
            )
        finally:
            bar.close()
        rendered = [
            [self._render(h, t, replace, c) for h in hyps] for hyps, t, c in zip(found, source_tokens, copies)
        ]
        scores = [[h.score for h in hyps] for hyps in found]
        if reranker is not None:
            scores = self._mmi_scores(reranker, found, rendered, batch_size)
        results = []
        rows_of = zip(found, rendered, scores, source_tokens, sources, copies, strict=True)
        for hyps, rows, row_scores, src_tokens, src_ids, copy in rows_of:
            order = rerank_order(row_scores)[:shown] if reranker is not None else range(len(hyps))
            best, (text, tokens) = hyps[order[0]], rows[order[0]]
            attention = generation = None
            if return_attention and best.attention is not None:
                attention = best.attention[: len(tokens)].tolist()
                if copy is not None:
                    generation = self._generation(best, src_ids, copy)[: len(tokens)]
            n_best_list = [(rows[i][0], row_scores[i]) for i in order]
            results.append(
                Translation(
                    text, tokens, src_tokens, row_scores[order[0]], attention, n_best_list, generation
                )
            )
        return results

    def _mmi(
        self,
        opts: SearchOptions,
        mmi_lm: str | Path | LanguageModelPredictor | None,
        mmi_lambda: float | None,
        mmi_gamma: int | None,
        mmi_length_weight: float | None,
    ) -> MMIReranker | None:
        """The MMI reranker ``translate``'s ``mmi_*`` arguments ask for (None without ``mmi_lm``);
        a ConfigError for settings without ``mmi_lm`` or a search without an n-best list."""
        settings = {"mmi_lambda": mmi_lambda, "mmi_gamma": mmi_gamma, "mmi_length_weight": mmi_length_weight}
        if mmi_lm is None:
            given = [name for name, value in settings.items() if value is not None]
            if given:
                raise ConfigError(f"{', '.join(given)}: needs mmi_lm, a language-model run to rerank with")
            return None
        check_mmi_search(opts.beam_size, opts.sampling)
        if not isinstance(mmi_lm, LanguageModelPredictor):
            key = str(mmi_lm)
            if key not in self._language_models:
                self._language_models[key] = load_language_model(mmi_lm, str(self.device))
            mmi_lm = self._language_models[key]
        decoding = self.config.decoding
        return MMIReranker(
            mmi_lm,
            lam=decoding.mmi_lambda if mmi_lambda is None else mmi_lambda,
            gamma=decoding.mmi_gamma if mmi_gamma is None else mmi_gamma,
            length_weight=decoding.mmi_length_weight if mmi_length_weight is None else mmi_length_weight,
        )

    @staticmethod
    def _mmi_scores(
        reranker: MMIReranker,
        found: list[list[Hypothesis]],
        rendered: list[list[tuple[str, list[str]]]],
        batch_size: int,
    ) -> list[list[float]]:
        """Each source's n-best MMI scores, the language model reading every output in batches."""
        texts = [text for rows in rendered for text, _ in rows]
        search_scores = [h.score for hyps in found for h in hyps]
        lengths = [len(h.tokens) for hyps in found for h in hyps]
        flat = reranker.scores(texts, search_scores, lengths, batch_size)
        scores, start = [], 0
        for hyps in found:
            scores.append(flat[start : start + len(hyps)])
            start += len(hyps)
        return scores

    def _generation(self, hyp: Hypothesis, source_ids: list[int], copy: SourceCopy) -> list[float]:
        """p_gen at each step of ``hyp`` (its tokens fed back as in the search, from its source)."""
        device = self.device
        src = torch.tensor([source_ids], device=device)
        src_copy = torch.tensor([copy.ids], device=device)
        tgt_in = torch.tensor([[self.model.bos_id, *hyp.tokens]], device=device)
        lengths = torch.tensor([len(copy.ids)])
        with torch.no_grad():
            return self.model.generation_probabilities(src, lengths, src_copy, tgt_in)[0].tolist()

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(
        self,
        sources: Sequence[str] | Sequence[Pair],
        references: Sequence[str] | None = None,
        *,
        bucket_metric: str | None = None,
        edges: Sequence[int] | None = None,
        progress: bool = False,
        scores: Sequence[str] = DEFAULT_SCORES,
        **search: Any,
    ) -> Seq2SeqEvaluation:
        """Decode ``sources`` (with the run's decoding settings, overridable as in :meth:`translate`)
        and score them against ``references``; or pass :class:`~seqlab.data.readers.parallel.Pair` s.

        Repeated sources (several references) are decoded once and scored against the closest
        reference. ``scores``: names of :data:`~seqlab.metrics.references.SCORE_NAMES` (add
        ``DIALOGUE_SCORES`` for BLEU-1/2, distinct-1/2 and the frequent-output share).
        ``bucket_metric`` (default: WER for a word-level target, else BLEU) is reported by source
        length (in source tokens).
        """
        if references is None:
            pairs = [p if isinstance(p, Pair) else Pair(*p) for p in sources]  # type: ignore[misc]
        else:
            if len(sources) != len(references):
                raise DataError(f"{len(sources)} sources but {len(references)} references")
            pairs = [Pair(str(s), str(r)) for s, r in zip(sources, references)]
        if not pairs:
            raise DataError("nothing to evaluate: no pairs")
        grouped = group_references(pairs)
        outputs = self.translate(list(grouped), progress=progress, **search)
        ref_texts = list(grouped.values())
        ref_tokens = [[self.pipeline.target_tokens(r) for r in refs] for refs in ref_texts]
        hyp_texts = [o.text for o in outputs]
        hyp_tokens = [o.tokens for o in outputs]
        summary, signatures, chosen = score_outputs(hyp_texts, hyp_tokens, ref_texts, ref_tokens, scores)
        best_refs = [refs[i] for refs, i in zip(ref_tokens, chosen)]
        summary["length_ratio"] = seq_metrics.length_ratio(hyp_tokens, best_refs)
        metric = bucket_metric or ("wer" if self.pipeline.target_tokenizer.kind == "word" else "bleu")
        lengths = [len(o.source_tokens) for o in outputs]
        if metric in ("wer", "per", "exact_match"):
            function = _token_metric(metric)
            buckets = seq_metrics.length_buckets(lengths, hyp_tokens, best_refs, function, edges)
        else:
            best_texts = [refs[i] for refs, i in zip(ref_texts, chosen)]
            buckets = seq_metrics.length_buckets(lengths, hyp_texts, best_texts, metric, edges)
        return Seq2SeqEvaluation(summary, signatures, buckets, metric, len(outputs), hyp_texts)

    @torch.no_grad()
    def perplexity(self, pairs: Sequence[Pair]) -> dict[str, float]:
        """Teacher-forced ``loss`` (NLL per target token, ``<eos>`` included), ``ppl`` and token
        ``accuracy`` of the targets of ``pairs`` given their sources: the Trainer's validation loop
        (:func:`~seqlab.models.evaluation.evaluate_model`) in batches of ``data.max_tokens``."""
        encoded, _ = encode_pairs(self.pipeline, list(pairs), copy=self.copies)  # copy: the source's ids too
        if not encoded:
            raise DataError("no pairs to compute a perplexity on")
        loader = Seq2SeqLoader(encoded, self.config.data.max_tokens, shuffle=False)
        return evaluate_model(self.model, loader, self.device)

    # -- sentence vectors -------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, texts: Sequence[str], pool: str = "mean", batch_size: int = 64) -> np.ndarray:
        """Sentence vectors float32 [N, He]: the encoder's states over each text's tokens, pooled
        with ``pool`` ('mean', 'max', 'last')."""
        check_pool(pool)
        parts = []
        for chunk in chunks(list(texts), batch_size):
            src, lengths = pad_batch([self.pipeline.source_ids(t) for t in chunk], self.model.pad_id)
            memory = self.model.encode(src.to(self.device), lengths)
            pooled = pool_states(
                memory.states, lengths.to(self.device), pool, self.config.model.bidirectional
            )
            parts.append(pooled.float().cpu().numpy())
        width = self.model.encoder.output_size
        return np.concatenate(parts) if parts else np.zeros((0, width), np.float32)


def _token_metric(name: str):  # noqa: ANN202 - (hyps, refs) -> float
    if name == "per":
        return seq_metrics.error_rate
    if name == "exact_match":
        return seq_metrics.exact_match
    return lambda hyps, refs: 100.0 - seq_metrics.exact_match(hyps, refs)
