"""MMI anti-language-model reranking (seqlab/predictors/mmi.py): the score, the refusals, and
Seq2SeqPredictor.translate(mmi_lm=...) with a tiny language model that strongly prefers one output."""

from pathlib import Path

import pytest

import seqlab
from seqlab.config import load_config
from seqlab.errors import ConfigError
from seqlab.predictors.mmi import MMIReranker, check_mmi_search, rerank_order
from seqlab.training.pipeline import train

REPO = Path(__file__).resolve().parents[2]
SOURCE = "a b c d e"


class FakeLanguageModel:
    """``token_log_probs`` from a table: text -> per-token log-probabilities (and the line end)."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def token_log_probs(self, texts, batch_size=64):
        return [self.table[text] for text in texts]


def test_the_score_follows_the_formula():
    lm = FakeLanguageModel({"x y": [-1.0, -2.0, -0.5], "z": [-4.0, -0.25]})
    reranker = MMIReranker(lm, lam=0.5, gamma=2, length_weight=0.1)
    scores = reranker.scores(["x y", "z"], [-3.0, -5.0], [2, 1])
    assert scores == pytest.approx([-3.0 - 0.5 * (-3.0) + 0.2, -5.0 - 0.5 * (-4.25) + 0.1])
    assert reranker.language_model_scores(["x y"]) == [-3.0]  # only the first gamma = 2 tokens


def test_lambda_zero_keeps_the_order_and_a_positive_lambda_demotes_what_the_lm_likes():
    lm = FakeLanguageModel({"dull": [-0.01, -0.01], "rare": [-9.0, -1.0], "odd": [-7.0, -2.0]})
    search = [-1.0, -1.5, -2.0]
    texts = ["dull", "rare", "odd"]
    assert rerank_order(MMIReranker(lm, lam=0.0).scores(texts, search, [1, 1, 1])) == [0, 1, 2]
    assert rerank_order(MMIReranker(lm, lam=0.5).scores(texts, search, [1, 1, 1]))[0] != 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(lam=-0.5), r"mmi_lambda = -0.5: must be a number in \[0, 100\]"),
        (dict(lam=float("nan")), "mmi_lambda = nan"),
        (dict(gamma=0), "mmi_gamma = 0: must be an integer >= 1"),
        (dict(gamma=2.5), "mmi_gamma = 2.5"),
        (dict(length_weight=1e9), r"mmi_length_weight = 1000000000.0: must be a number in \[-100, 100\]"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        MMIReranker(FakeLanguageModel({}), **kwargs)


def test_a_search_without_an_n_best_list_is_refused():
    with pytest.raises(ConfigError, match=r"beam_size >= 2 \(got beam_size = 1\)"):
        check_mmi_search(1, sampling=False)
    with pytest.raises(ConfigError, match="does not work with sampling"):
        check_mmi_search(4, sampling=True)
    check_mmi_search(2, sampling=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path, str]:
    """A Seq2Seq run, and a language model trained on its own best output for SOURCE, repeated."""
    root = tmp_path_factory.mktemp("mmi")
    s2s = root / "s2s"
    cfg = load_config(
        REPO / "configs" / "tiny_seq2seq.yaml",
        [
            f"data.train={REPO / 'tests/fixtures/tiny_s2s_train.tsv'}",
            f"data.valid={REPO / 'tests/fixtures/tiny_s2s_valid.tsv'}",
            "training.max_steps=30",
            "training.validate_every=30",
            "training.metric=loss",
            "training.metric_mode=min",
        ],
    )
    train(cfg, s2s)
    liked = seqlab.load(s2s).translate(SOURCE, beam_size=4)[0].text
    text = root / "liked.txt"
    text.write_text((liked + "\n") * 200, encoding="utf-8")
    lm = root / "lm"
    lm_cfg = load_config(
        REPO / "configs" / "tiny_lm.yaml",
        [f"data.train={text}", f"data.valid={text}", "training.max_steps=80", "training.validate_every=80"],
    )
    train(lm_cfg, lm)
    return s2s, lm, liked


def test_token_log_probs_sum_to_the_line_score(runs):
    _, lm, liked = runs
    predictor = seqlab.load(lm)
    lines = [liked, "a", "", "b c d e f g"]
    rows = predictor.token_log_probs(lines, batch_size=3)
    for row, score in zip(rows, predictor.score(lines), strict=True):
        assert len(row) == score.tokens
        assert sum(row) == pytest.approx(score.logprob, abs=1e-4)


def test_translate_reranks_the_beam(runs):
    s2s, lm, liked = runs
    predictor = seqlab.load(s2s)
    plain = predictor.translate(SOURCE, beam_size=4, n_best=4)[0]
    assert plain.text == liked
    same = predictor.translate(SOURCE, beam_size=4, n_best=4, mmi_lm=lm, mmi_lambda=0.0)[0]
    assert same.n_best == plain.n_best  # lambda 0: the search's order and scores
    scored = seqlab.load(lm).score([text for text, _ in plain.n_best])
    assert scored[0].logprob > max(s.logprob for s in scored[1:]) + 5  # the language model likes it
    mmi = predictor.translate(SOURCE, beam_size=4, n_best=4, mmi_lm=lm, mmi_lambda=0.5)[0]
    assert mmi.text != liked and mmi.score == mmi.n_best[0][1]
    assert liked in [text for text, _ in mmi.n_best[1:]]  # demoted, not dropped
    assert sorted(t for t, _ in mmi.n_best) == sorted(t for t, _ in plain.n_best)
    one = predictor.translate([SOURCE, "g f"], beam_size=4, mmi_lm=lm, mmi_lambda=0.5)
    assert one[0].text == mmi.text and len(one[0].n_best) == 1


def test_translate_refuses_mmi_without_an_n_best_list(runs):
    s2s, lm, _ = runs
    predictor = seqlab.load(s2s)
    with pytest.raises(ConfigError, match="beam_size >= 2"):
        predictor.translate(SOURCE, beam_size=1, mmi_lm=lm)
    with pytest.raises(ConfigError, match="sampling"):
        predictor.translate(SOURCE, sampling=True, mmi_lm=lm)
    with pytest.raises(ConfigError, match="mmi_lambda, mmi_gamma: needs mmi_lm"):
        predictor.translate(SOURCE, mmi_lambda=0.5, mmi_gamma=3)
    with pytest.raises(ConfigError, match="a seq2seq run; MMI reranking needs a language-model run"):
        predictor.translate(SOURCE, beam_size=4, mmi_lm=s2s)


def test_mmi_reranks_a_diverse_beam(runs):
    s2s, lm, _ = runs
    predictor = seqlab.load(s2s)
    settings = dict(beam_size=4, n_best=4, diverse_groups=2, diversity_strength=2.0)
    diverse = predictor.translate(SOURCE, **settings)[0]
    same = predictor.translate(SOURCE, mmi_lm=lm, mmi_lambda=0.0, **settings)[0]
    assert same.n_best == diverse.n_best
    reranked = predictor.translate(SOURCE, mmi_lm=lm, mmi_lambda=0.5, **settings)[0]
    assert sorted(t for t, _ in reranked.n_best) == sorted(t for t, _ in diverse.n_best)
    assert [t for t, _ in reranked.n_best] != [t for t, _ in diverse.n_best]
