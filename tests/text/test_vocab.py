import json

import pytest

from seqlab.errors import DataError
from seqlab.text import SPECIALS, Vocabulary


def test_specials_have_fixed_ids():
    vocab = Vocabulary.build([["a", "b"]])
    assert SPECIALS == ("<pad>", "<unk>", "<bos>", "<eos>")
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)
    assert vocab.itos[:4] == list(SPECIALS)
    assert len(vocab) == 6


def test_order_by_frequency_then_string_independent_of_input_order():
    lists = [["b", "a", "c", "a"], ["c", "d", "b"], ["a"]]
    vocab = Vocabulary.build(lists)
    assert vocab.itos[4:] == ["a", "b", "c", "d"]  # a:3, then b, c tie at 2 (by string), d:1
    shuffled = Vocabulary.build([list(reversed(x)) for x in reversed(lists)])
    assert shuffled == vocab


def test_min_freq_and_max_size():
    lists = [["x"] * 5 + ["y"] * 3 + ["z"] * 2 + ["w"]]
    assert Vocabulary.build(lists, min_freq=2).itos[4:] == ["x", "y", "z"]
    assert Vocabulary.build(lists, min_freq=3).itos[4:] == ["x", "y"]
    assert Vocabulary.build(lists, max_size=2).itos[4:] == ["x", "y"]
    assert Vocabulary.build(lists, min_freq=3, max_size=1).itos[4:] == ["x"]


def test_encode_unknown_and_corpus_unk():
    vocab = Vocabulary.build([["the", "<unk>", "cat", "<unk>", "<unk>"]])
    assert "<unk>" not in vocab.itos[4:]  # the corpus <unk> is the special, not a new word
    ids = vocab.encode(["the", "<unk>", "zebra", "cat"])
    assert ids == [vocab.stoi["the"], 1, 1, vocab.stoi["cat"]]


def test_decode_skips_specials_but_keeps_unk():
    vocab = Vocabulary.build([["hi", "there"]])
    ids = [vocab.bos_id, *vocab.encode(["hi", "nope", "there"]), vocab.eos_id, vocab.pad_id]
    assert vocab.decode(ids) == ["hi", "<unk>", "there"]
    assert vocab.decode(ids, skip_special=False) == ["<bos>", "hi", "<unk>", "there", "<eos>", "<pad>"]


def test_save_load_round_trip(tmp_path):
    vocab = Vocabulary.build([["héllo", "世界", "a", "a"]])
    path = tmp_path / "run" / "vocab.json"
    vocab.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["format_version"] == 1
    loaded = Vocabulary.load(path)
    assert loaded == vocab
    assert loaded.encode(["世界", "?"]) == vocab.encode(["世界", "?"])


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        '{"format_version": 99, "tokens": ["<pad>", "<unk>", "<bos>", "<eos>"]}',
        '{"format_version": 1, "tokens": ["a", "b"]}',
        '{"format_version": 1, "tokens": ["<pad>", "<unk>", "<bos>", "<eos>", "a", "a"]}',
        '{"format_version": 1, "tokens": "abc"}',
    ],
)
def test_malformed_file_raises_data_error_naming_file(tmp_path, content):
    path = tmp_path / "bad_vocab.json"
    path.write_text(content)
    with pytest.raises(DataError, match="bad_vocab.json"):
        Vocabulary.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="missing.json"):
        Vocabulary.load(tmp_path / "missing.json")
