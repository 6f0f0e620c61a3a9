import json

import pytest

from seqlab.config import TokenizerConfig
from seqlab.errors import ConfigError, DataError
from seqlab.text import build_tokenizer, load_tokenizer
from seqlab.text import tokenizers as tokenizers_module

TEXTS = ["Hello,  world!", "  leading and trailing  ", "中文 字符 测试", "tab\there\u2028sep", ""]


@pytest.mark.parametrize("text", TEXTS)
def test_char_round_trip_is_exact(text):
    tok = build_tokenizer(TokenizerConfig(kind="char"))
    assert tok.detokenize(tok.tokenize(text)) == text
    assert len(tok.tokenize(text)) == len(text)


def test_char_handles_chinese_per_character():
    tok = build_tokenizer(TokenizerConfig(kind="char"))
    assert tok.tokenize("我爱你") == ["我", "爱", "你"]


@pytest.mark.parametrize("text", TEXTS)
def test_word_round_trip_normalises_whitespace(text):
    tok = build_tokenizer(TokenizerConfig(kind="word"))
    assert tok.detokenize(tok.tokenize(text)) == " ".join(text.split())


def test_word_lowercase():
    tok = build_tokenizer(TokenizerConfig(kind="word", lowercase=True))
    assert tok.tokenize("The CAT sat") == ["the", "cat", "sat"]
    assert build_tokenizer(TokenizerConfig(kind="word")).tokenize("The CAT") == ["The", "CAT"]


@pytest.mark.parametrize("kind", ["char", "word"])
def test_save_and_load(tmp_path, kind):
    tok = build_tokenizer(TokenizerConfig(kind=kind, lowercase=True))
    tok.fit(["Some Text"], tmp_path)
    data = json.loads((tmp_path / "tokenizer.json").read_text())
    assert data["kind"] == kind and data["lowercase"] is True and data["format_version"] == 1
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is type(tok)
    assert loaded.tokenize("A b C") == tok.tokenize("A b C")


def _corpus():
    words = ["the", "cat", "sat", "on", "mat", "dog", "ran", "far", "away", "home", "fast"]
    return [" ".join(words[(i * 7 + j) % len(words)] for j in range(8)) for i in range(200)]


@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
def test_sentencepiece_fit_round_trip_and_reload(tmp_path, model_type):
    cfg = TokenizerConfig(kind="sentencepiece", sp_model_type=model_type, sp_vocab_size=40)
    tok = build_tokenizer(cfg)
    tok.fit(_corpus(), tmp_path)
    assert (tmp_path / "spm.model").is_file() and (tmp_path / "tokenizer.json").is_file()
    text = "the dog ran home fast"
    pieces = tok.tokenize(text)
    assert len(pieces) >= 5 and all(isinstance(p, str) for p in pieces)
    assert tok.detokenize(pieces) == text
    loaded = load_tokenizer(tmp_path)
    assert loaded.tokenize(text) == pieces
    assert loaded.detokenize(pieces) == text


def test_sentencepiece_is_deterministic_and_keeps_unk_literal(tmp_path):
    cfg = TokenizerConfig(kind="sentencepiece", sp_model_type="bpe", sp_vocab_size=40)
    first, second = build_tokenizer(cfg), build_tokenizer(cfg)
    first.fit(_corpus(), tmp_path / "a")
    second.fit(_corpus(), tmp_path / "b")
    assert (tmp_path / "a" / "spm.model").read_bytes() == (tmp_path / "b" / "spm.model").read_bytes()
    assert "<unk>" in first.tokenize("the <unk> sat")


def test_sentencepiece_save_copies_model(tmp_path):
    tok = build_tokenizer(TokenizerConfig(kind="sentencepiece", sp_vocab_size=40))
    tok.fit(_corpus(), tmp_path / "train")
    tok.save(tmp_path / "elsewhere")
    assert load_tokenizer(tmp_path / "elsewhere").tokenize("the cat") == tok.tokenize("the cat")


def test_sentencepiece_unfitted_raises():
    tok = build_tokenizer(TokenizerConfig(kind="sentencepiece"))
    with pytest.raises(DataError, match="fit"):
        tok.tokenize("x")


def test_jieba_segments_words_and_round_trips():
    pytest.importorskip("jieba")
    tok = build_tokenizer(TokenizerConfig(kind="jieba"))
    text = "我爱北京天安门 hello"
    tokens = tok.tokenize(text)
    assert "北京" in tokens
    assert tok.detokenize(tokens) == text


def test_jieba_missing_gives_install_hint(monkeypatch):
    def missing():
        raise ConfigError("needs the jieba package: pip install seqlab[zh]")

    monkeypatch.setattr(tokenizers_module, "_import_jieba", missing)
    with pytest.raises(ConfigError, match=r"pip install seqlab\[zh\]"):
        build_tokenizer(TokenizerConfig(kind="jieba"))


def test_import_jieba_message_when_absent(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "jieba":
            raise ImportError("no jieba")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ConfigError, match=r"seqlab\[zh\]"):
        tokenizers_module._import_jieba()


def test_load_tokenizer_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="tokenizer.json"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(DataError, match=str(tmp_path / "tokenizer.json")):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text('{"format_version": 1, "kind": "nope"}')
    with pytest.raises(DataError, match="unknown tokenizer kind"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text(
        '{"format_version": 1, "kind": "sentencepiece", '
        '"model_type": "bpe", "vocab_size": 40, '
        '"character_coverage": 1.0}'
    )
    with pytest.raises(DataError, match="spm.model"):
        load_tokenizer(tmp_path)


@pytest.mark.parametrize("lowercase", [False, True])
def test_sentencepiece_keeps_user_symbols_whole_also_after_reload(tmp_path, lowercase):
    cfg = TokenizerConfig(kind="sentencepiece", sp_vocab_size=40, lowercase=lowercase)
    lines = [f"{line} <turn> {line[::-1]}" for line in _corpus()[:50]]
    plain = build_tokenizer(cfg)
    plain.fit(lines, tmp_path / "plain")
    assert "<turn>" not in plain.tokenize("the dog <turn> ran")  # without it, the separator is cut up
    kept = build_tokenizer(cfg, user_symbols=("<turn>",))
    kept.fit(lines, tmp_path / "kept")
    for tokenizer in (kept, load_tokenizer(tmp_path / "kept")):
        pieces = tokenizer.tokenize("the dog <turn> ran")
        assert pieces.count("<turn>") == 1 and "<unk>" in tokenizer.tokenize("a <unk> b")
        assert tokenizer.detokenize(pieces) == "the dog <turn> ran"
    assert "<turn>" in build_tokenizer(TokenizerConfig(kind="word"), ("<turn>",)).tokenize("a <turn> b")
