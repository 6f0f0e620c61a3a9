"""Chatbot: the context a Seq2Seq or language model reads is the last k turns joined with the run's
turn separator; the answer is what translate / generate give for that context."""

from pathlib import Path
from types import SimpleNamespace

import pytest

import seqlab
from seqlab.config import DecodingConfig, load_config
from seqlab.data.readers.dialogue import join_context
from seqlab.errors import ConfigError
from seqlab.predictors.chat import Chatbot, context_settings, lm_generate_kwargs
from seqlab.training.pipeline import train

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def s2s_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("chat_s2s") / "run"
    cfg = load_config(
        REPO / "configs" / "tiny_seq2seq.yaml",
        [
            f"data.train={REPO / 'tests/fixtures/tiny_s2s_train.tsv'}",
            f"data.valid={REPO / 'tests/fixtures/tiny_s2s_valid.tsv'}",
            "training.max_steps=30",
            "training.metric=loss",
            "training.metric_mode=min",
        ],
    )
    train(cfg, run_dir)
    return run_dir


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("chat_lm") / "run"
    cfg = load_config(
        REPO / "configs" / "tiny_lm.yaml",
        [
            f"data.train={REPO / 'tests/fixtures/tiny_train.txt'}",
            f"data.valid={REPO / 'tests/fixtures/tiny_valid.txt'}",
            "training.max_steps=20",
            "training.validate_every=20",
            "training.save_every=20",
        ],
    )
    train(cfg, run_dir)
    return run_dir


def test_join_keeps_the_last_k_turns_oldest_first():
    assert join_context(["a", "b", "c"], 2, "<turn>") == "b <turn> c"
    assert join_context(["a"], 3, "<t>") == "a"
    assert join_context(["a", "b", "c"], 1, "<turn>") == "c"


def test_context_settings_read_the_run_data_section():
    turns, separator = context_settings(load_config(REPO / "configs" / "tiny_seq2seq.yaml"))
    assert (turns, separator) == (2, "<turn>")  # the defaults
    custom = SimpleNamespace(data=SimpleNamespace(context_turns=4, turn_separator="__eot__"))
    assert context_settings(custom) == (4, "__eot__")


def test_seq2seq_answers_are_translations_of_the_joined_context(s2s_run):
    predictor = seqlab.load(s2s_run)
    bot = Chatbot(predictor, beam_size=2)
    first = bot.reply("a b c")
    assert first.source == "a b c"
    assert first.text == predictor.translate("a b c", beam_size=2)[0].text
    second = bot.reply("  d e ")
    assert second.source == f"{first.text} <turn> d e"
    assert second.text == predictor.translate(second.source, beam_size=2)[0].text
    third = bot.reply("f g")
    assert third.source == f"{second.text} <turn> f g"  # two turns: the bot's last and the new one
    bot.reset()
    assert bot.reply("h").source == "h"


def test_more_context_turns_and_n_best_alternatives(s2s_run):
    predictor = seqlab.load(s2s_run)
    bot = Chatbot(predictor, context_turns=3, beam_size=3, n_best=3)
    first = bot.reply("a b")
    assert len(first.alternatives) == 2
    assert [first.text, *first.alternatives] == [
        text for text, _ in predictor.translate("a b", beam_size=3, n_best=3)[0].n_best
    ]
    assert bot.reply("c d").source == f"a b <turn> {first.text} <turn> c d"


def test_bad_context_turns_and_other_families_are_refused(s2s_run):
    predictor = seqlab.load(s2s_run)
    with pytest.raises(ConfigError, match="context_turns = 0"):
        Chatbot(predictor, context_turns=0)
    classifier = SimpleNamespace(config=SimpleNamespace(task="classifier"))
    with pytest.raises(ConfigError, match="a classifier run cannot chat"):
        Chatbot(classifier)


def test_a_language_model_continues_context_and_separator_to_the_line_end(lm_run):
    predictor = seqlab.load(lm_run)
    bot = Chatbot(predictor, beam_size=1, max_length=12)
    reply = bot.reply("the cat")
    expected = predictor.generate("the cat <turn>", 12, greedy=True, stop_at_eos=True, include_prompt=False)[
        0
    ]
    assert reply.source == "the cat"
    assert reply.text == expected.split("<turn>")[0].strip()
    assert "\n" not in reply.text
    assert bot.reply("a dog").source == f"{reply.text} <turn> a dog"


def test_generate_can_leave_the_prompt_out(lm_run):
    predictor = seqlab.load(lm_run)
    whole = predictor.generate("the cat", 5, greedy=True)[0]
    new = predictor.generate("the cat", 5, greedy=True, include_prompt=False)[0]
    assert whole.startswith("the cat") and whole.endswith(new)
    assert len(new.split()) <= 5


def test_translate_controls_map_onto_generate():
    run = DecodingConfig(beam_size=4, max_length=50, no_repeat_ngram=3)
    cfg = SimpleNamespace(decoding=run)
    plain = lm_generate_kwargs(cfg, {"beam_size": None})
    assert plain == {
        "greedy": True, "beam_size": 4, "num_samples": 1, "max_tokens": 50, "min_length": None,
        "no_repeat_ngram": 3, "repetition_penalty": None,
    }  # fmt: skip
    drawn = lm_generate_kwargs(cfg, {"sampling": True, "temperature": 0.7, "seed": 1, "max_length": 9})
    assert drawn["greedy"] is False and drawn["beam_size"] == 1 and drawn["max_tokens"] == 9
    assert drawn["temperature"] == 0.7 and drawn["seed"] == 1
    assert "temperature" not in lm_generate_kwargs(cfg, {"temperature": 0.7})  # no sampling: unused
    with pytest.raises(ConfigError, match="alpha, coverage_penalty: not for a language model"):
        lm_generate_kwargs(cfg, {"alpha": 0.5, "coverage_penalty": 0.2})


def test_answers_translate_a_batch_of_contexts_and_remember_nothing(s2s_run):
    predictor = seqlab.load(s2s_run)
    bot = Chatbot(predictor, beam_size=2)
    sources = ["a b c", "c b a <turn> d e"]
    assert bot.answers(sources) == [[t.text] for t in predictor.translate(sources, beam_size=2)]
    assert bot.turns == []


def test_translates_neutral_sampling_values_are_generates_none():
    cfg = SimpleNamespace(decoding=DecodingConfig())
    drawn = lm_generate_kwargs(cfg, {"sampling": True, "top_k": 0, "top_p": 1.0, "temperature": 1.0})
    assert "top_k" not in drawn and "top_p" not in drawn and drawn["temperature"] == 1.0
