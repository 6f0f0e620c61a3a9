"""Seq2SeqPredictor through seqlab.load: translate (batched, n-best, attention, sampling), evaluate
(multi-reference, by-length table), encode; and checkpoint averaging of its run directory."""

import math
import shutil
from pathlib import Path

import pytest
import torch

import seqlab
from seqlab.config import load_config
from seqlab.data.readers.parallel import Pair
from seqlab.errors import CheckpointError, ConfigError, DataError
from seqlab.metrics.dialogue import distinct_n
from seqlab.metrics.references import DEFAULT_SCORES, DIALOGUE_SCORES
from seqlab.rundir.safetensors_io import read_tensors
from seqlab.training.averaging import average_checkpoints
from seqlab.training.pipeline import train

REPO = Path(__file__).resolve().parents[2]


def train_tiny(run_dir: Path, *sets: str) -> Path:
    """Train ``configs/tiny_seq2seq.yaml`` on the tiny fixtures into ``run_dir``, loss as the metric."""
    fixtures = REPO / "tests" / "fixtures"
    cfg = load_config(
        REPO / "configs" / "tiny_seq2seq.yaml",
        [
            f"data.train={fixtures / 'tiny_s2s_train.tsv'}",
            f"data.valid={fixtures / 'tiny_s2s_valid.tsv'}",
            "training.metric=loss",
            "training.metric_mode=min",
            *sets,
        ],
    )
    train(cfg, run_dir)
    return run_dir


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("s2s") / "run"
    return train_tiny(run_dir, "training.max_steps=30", "training.validate_every=15")


def test_load_gives_a_seq2seq_predictor(run):
    predictor = seqlab.load(run)
    assert predictor.family == "seq2seq" and predictor.config.task == "seq2seq"
    tokenizer, vocab = predictor.target_pipeline
    assert tokenizer.kind == "word" and len(vocab) > 4


def test_translate_one_or_many_with_n_best_and_attention(run):
    predictor = seqlab.load(run)
    one = predictor.translate("a b c", beam_size=3, n_best=3, return_attention=True)
    assert len(one) == 1
    result = one[0]
    assert result.source_tokens == ["a", "b", "c"]
    assert result.n_best[0] == (result.text, result.score) and len(result.n_best) == 3
    scores = [score for _, score in result.n_best]
    assert scores == sorted(scores, reverse=True)
    assert len(result.attention) == len(result.tokens)
    for row in result.attention:
        assert len(row) == 3 and sum(row) == pytest.approx(1.0, abs=1e-5)
    texts = ["a b c d e f g", "h", "c c d", "a b c"]
    many = predictor.translate(texts, batch_size=2)
    assert [t.source_tokens for t in many] == [t.split() for t in texts]
    assert many[3].text == predictor.translate("a b c")[0].text  # batching and order change nothing
    assert many[0].attention is None


def test_greedy_sampling_and_bounds(run):
    predictor = seqlab.load(run)
    greedy = predictor.translate(["a b c d", "e f"], beam_size=1)
    again = predictor.translate(["a b c d", "e f"], beam_size=1)
    assert [g.text for g in greedy] == [a.text for a in again]
    drawn = predictor.translate("a b c d", sampling=True, seed=3, temperature=2.0)[0].text
    assert predictor.translate("a b c d", sampling=True, seed=3, temperature=2.0)[0].text == drawn
    short = predictor.translate("a b c d e f g", max_length=2, beam_size=2)[0]
    assert len(short.tokens) <= 2
    with pytest.raises(ConfigError, match="n_best"):
        predictor.translate("a b", beam_size=2, n_best=3)


def test_evaluate_scores_against_the_closest_reference(run):
    predictor = seqlab.load(run)
    output = predictor.translate("a b c", beam_size=1)[0].text
    pairs = [Pair("a b c", "zzz"), Pair("a b c", output), Pair("d e", "e d")]
    result = predictor.evaluate(pairs, beam_size=1)
    assert result.count == 2  # the repeated source is decoded once
    assert result.summary["exact_match"] >= 50.0
    for key in ("bleu", "chrf", "rouge_l", "per", "wer", "length_ratio"):
        assert key in result.summary
    assert "nrefs:1" in result.signatures["bleu"]
    assert sum(row["count"] for row in result.buckets) == 2


def test_evaluate_adds_the_dialogue_scores_when_asked(run):
    predictor = seqlab.load(run)
    pairs = [Pair("a b c", "c b a"), Pair("d e", "e d")]
    plain = predictor.evaluate(pairs, beam_size=1)
    assert "distinct1" not in plain.summary and "bleu2" not in plain.summary
    result = predictor.evaluate(pairs, beam_size=1, scores=(*DEFAULT_SCORES, *DIALOGUE_SCORES))
    outputs = [t.tokens for t in predictor.translate(["a b c", "d e"], beam_size=1)]
    assert result.summary["distinct1"] == pytest.approx(distinct_n(outputs, 1))
    assert result.summary["frequent_share"] == pytest.approx(100.0)  # two outputs, both in the top ten
    assert result.summary["bleu"] == plain.summary["bleu"]
    assert "|ngram:2" in result.signatures["bleu2"]


def test_perplexity_is_the_teacher_forced_loss_of_the_targets(run):
    predictor = seqlab.load(run)
    pairs = [Pair("a b c", "c b a"), Pair("d e", "e d")]
    right = predictor.perplexity(pairs)
    wrong = predictor.perplexity([Pair("a b c", "a a a"), Pair("d e", "d d")])
    assert right["ppl"] == pytest.approx(math.exp(right["loss"]), rel=1e-4)
    assert right["ppl"] < wrong["ppl"]  # the model learned to reverse
    with pytest.raises(DataError, match="no pairs"):
        predictor.perplexity([])


def test_encode_gives_one_vector_per_text(run):
    predictor = seqlab.load(run)
    vectors = predictor.encode(["a b", "c d e f"], pool="mean")
    assert vectors.shape == (2, predictor.model.encoder.output_size)
    assert predictor.encode([], pool="max").shape == (0, predictor.model.encoder.output_size)


def test_averaging_two_checkpoints_gives_their_mean_and_a_loadable_run(run, tmp_path):
    out = average_checkpoints([run, run / "last"], tmp_path / "avg")
    a, b = read_tensors(run / "model.safetensors"), read_tensors(run / "last" / "model.safetensors")
    averaged = read_tensors(out / "model.safetensors")
    for name, tensor in averaged.items():
        assert torch.allclose(tensor, (a[name] + b[name]) / 2, atol=1e-6)
    assert seqlab.load(out).translate("a b")[0].text is not None
    with pytest.raises(CheckpointError, match="not empty"):
        average_checkpoints([run, run / "last"], out)
    with pytest.raises(ConfigError, match="at least two"):
        average_checkpoints([run], tmp_path / "one")


def test_averaging_refuses_different_models(run, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    config = (run / "config.yaml").read_text(encoding="utf-8").replace("hidden_size: 32", "hidden_size: 48")
    (other / "config.yaml").write_text(config, encoding="utf-8")
    (other / "model.safetensors").write_bytes((run / "model.safetensors").read_bytes())
    with pytest.raises(ConfigError, match="hidden_size: 32 vs 48"):
        average_checkpoints([run, other], tmp_path / "avg")


# -- copy attention -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def copy_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("copy") / "run"
    cfg = load_config(
        REPO / "configs" / "tiny_copy.yaml",
        [
            f"data.train={REPO / 'tests/fixtures/tiny_copy_train.tsv'}",
            f"data.valid={REPO / 'tests/fixtures/tiny_copy_valid.tsv'}",
        ],
    )
    train(cfg, run_dir)
    return run_dir


def test_a_copy_model_writes_source_words_its_vocabulary_lacks(copy_run):
    predictor = seqlab.load(copy_run)
    assert predictor.copies
    assert "zorblat" not in predictor.pipeline.target_vocab.stoi
    texts = ["alpha beta zorblat gamma", "delta quux eps", "zorblat"]
    greedy = predictor.translate(texts, beam_size=1)
    assert [t.text for t in greedy] == texts
    beam = predictor.translate(texts, beam_size=3, n_best=3, return_attention=True)
    assert [t.text for t in beam] == texts
    assert all(len(t.n_best) == 3 and len(t.attention) == len(t.tokens) for t in beam)
    # p_gen per output token: the word no vocabulary holds can only have been copied
    first = beam[0]
    assert len(first.generation) == len(first.tokens) and all(0.0 <= p <= 1.0 for p in first.generation)
    assert first.generation[first.tokens.index("zorblat")] < 0.5
    assert first.to_dict()["p_gen"] == first.generation
    assert greedy[0].generation is None  # only with return_attention
    drawn = predictor.translate(texts[0], sampling=True, seed=1, temperature=0.5)[0]
    assert drawn.text == predictor.translate(texts[0], sampling=True, seed=1, temperature=0.5)[0].text
    assert "zorblat" in drawn.tokens  # sampling draws from the extended vocabulary too
    result = predictor.evaluate([Pair(t, t) for t in texts], beam_size=1)
    assert result.summary["exact_match"] == 100.0


def test_the_perplexity_of_a_copy_model_scores_copied_words_from_the_source(copy_run):
    """``seqlab evaluate`` prints it for every Seq2Seq run; a copy model needs the sources' copy ids."""
    predictor = seqlab.load(copy_run)
    texts = ["alpha beta zorblat gamma", "delta quux eps"]
    result = predictor.perplexity([Pair(t, t) for t in texts])
    assert math.isfinite(result["ppl"]) and result["ppl"] < 2.0  # the tiny model copies them
    assert result["accuracy"] > 0.9


def valid_sources() -> list[str]:
    lines = (REPO / "tests/fixtures/tiny_s2s_valid.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines]


def test_int8_decodes_close_to_float32_and_each_sentence_as_in_its_batch(run):
    float32, int8 = seqlab.load(run), seqlab.load(run, int8=True)
    assert int8.int8 and int8.config.decoding.int8 and not float32.int8
    texts = valid_sources()
    for beam in (1, 3):
        expected = float32.translate(texts, beam_size=beam)
        got = int8.translate(texts, beam_size=beam, batch_size=16)
        same = sum(a.text == b.text for a, b in zip(expected, got, strict=True))
        assert same >= 0.9 * len(texts), (beam, same)
        assert max(abs(a.score - b.score) for a, b in zip(expected, got)) > 0  # int8 products ran
        for text, batched in zip(texts[:12], got[:12]):
            alone = int8.translate(text, beam_size=beam)[0]
            assert alone.text == batched.text and alone.score == pytest.approx(batched.score, abs=1e-5)
    pairs = [
        Pair(*line.split("\t"))
        for line in (REPO / "tests/fixtures/tiny_s2s_valid.tsv").read_text().splitlines()
    ]
    assert int8.perplexity(pairs)["loss"] == pytest.approx(float32.perplexity(pairs)["loss"], rel=0.02)


def test_int8_is_refused_where_it_does_not_apply_and_a_configs_int8_warns_there(run, tmp_path):
    from seqlab.predictors.seq2seq import Seq2SeqPredictor

    with pytest.raises(ConfigError, match=r"int8: .*CPU only \(device is cuda\)"):
        Seq2SeqPredictor(run, device="cuda", int8=True)  # refused before the model would move
    asks = tmp_path / "asks_int8"
    shutil.copytree(run, asks)
    config = asks / "config.yaml"
    text = config.read_text()
    assert "  int8: false\n" in text  # saved with every decoding default
    config.write_text(text.replace("  int8: false\n", "  int8: true\n"))
    assert seqlab.load(asks, verify=False).int8  # the run's decoding.int8
    assert not seqlab.load(asks, verify=False, int8=False).int8  # the caller's choice wins
    with pytest.warns(UserWarning, match="decoding.int8 = true: .*device is meta.*decoding in float32"):
        elsewhere = Seq2SeqPredictor(asks, device="meta", verify=False)
    assert not elsewhere.int8 and not elsewhere.config.decoding.int8


def test_a_truncating_run_decodes_the_first_source_tokens_it_trained_on(tmp_path):
    # data.source_truncate is the run's, so every decoding reads a long source as training did:
    # the same first tokens, hence the same output as the truncated text itself
    run_dir = train_tiny(tmp_path / "run", "data.source_truncate=3", "training.max_steps=10")
    predictor = seqlab.load(run_dir)
    long, first = predictor.translate(["a b c d c b a", "a b c"], beam_size=3)
    assert long.source_tokens == first.source_tokens == ["a", "b", "c"]
    assert (long.text, long.score) == (first.text, first.score)
    greedy = predictor.translate(["a b c d c b a", "a b c"], beam_size=1)
    assert greedy[0].text == greedy[1].text
