"""Property tests of the tokenizers (issue 14, requirement 3): any text tokenizes without an
exception, and the round trips hold where they are documented to."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab.text.tokenizers import (
    CharTokenizer,
    JiebaTokenizer,
    SentencePieceTokenizer,
    WordTokenizer,
    load_tokenizer,
)

EXAMPLES = 150
AWKWARD = [
    "\n",
    "\r",
    "\t",
    "\x00",
    "\u2028",
    "\x85",
    "\ufeff",
    " ",
    "<unk>",
    "İ",
    "ß",
    "中文",
    "é",
    "e\u0301",
]
texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(AWKWARD), st.text(max_size=4)), max_size=15).map("".join),
)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(texts, st.booleans())
def test_char_tokenizer_is_exact(text, lowercase):
    tok = CharTokenizer(lowercase)
    tokens = tok.tokenize(text)
    assert tok.detokenize(tokens) == (text.lower() if lowercase else text)
    assert all(len(token) == 1 for token in tokens)


@SETTINGS
@given(texts, st.booleans())
def test_word_tokenizer_joins_the_whitespace_split_words(text, lowercase):
    tok = WordTokenizer(lowercase)
    tokens = tok.tokenize(text)
    prepared = text.lower() if lowercase else text
    assert tok.detokenize(tokens) == " ".join(prepared.split())
    assert all(token and not any(c.isspace() for c in token) for token in tokens)
    assert tok.tokenize(tok.detokenize(tokens)) == tokens


@pytest.fixture(scope="module")
def sentencepiece() -> SentencePieceTokenizer:
    folder = Path(tempfile.mkdtemp(prefix="seqlab-spm-properties-"))
    tok = SentencePieceTokenizer(vocab_size=60, model_type="unigram")
    lines = ["the cat sat on the mat", "a dog ran in the park <unk>", "中文 also here", "café naïve"] * 10
    tok.fit(lines, folder)
    return load_tokenizer(folder)  # the saved model, as a run directory reads it


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=texts)
def test_sentencepiece_tokenizes_any_text_and_its_round_trip_is_stable(sentencepiece, text):
    tokens = sentencepiece.tokenize(text)
    assert all(isinstance(token, str) and token for token in tokens)
    once = sentencepiece.detokenize(tokens)
    # sentencepiece normalizes (NFKC, spaces), so decode(encode(x)) need not be x; it is a fixed point
    assert sentencepiece.detokenize(sentencepiece.tokenize(once)) == once
    assert "<unk>" not in text or "<unk>" in tokens


@pytest.mark.skipif(importlib.util.find_spec("jieba") is None, reason="jieba is an optional extra")
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(texts)
def test_jieba_keeps_every_character(text):
    tok = JiebaTokenizer()
    assert tok.detokenize(tok.tokenize(text)) == text
