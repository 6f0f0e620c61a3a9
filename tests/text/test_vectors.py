from pathlib import Path

import pytest
import torch
from torch import nn

from seqlab.errors import ConfigError, DataError
from seqlab.text.vectors import load_pretrained_vectors

VOCAB = ["<pad>", "<unk>", "the", "Cat", "sat", "Paris", "zebra"]


def write(tmp_path: Path, text: str, name: str = "vectors.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def embedding(size: int = 3) -> nn.Embedding:
    torch.manual_seed(0)
    return nn.Embedding(len(VOCAB), size, padding_idx=0)


GLOVE = "the 0.1 0.2 0.3\ncat 1 2 3\nsat -1 -2 -3.5e-1\nparis 4 5 6\nParis 7 8 9\n"


def test_glove_format_coverage_and_lowercase_fallback(tmp_path):
    emb = embedding()
    before = emb.weight.detach().clone()
    report = load_pretrained_vectors(emb, write(tmp_path, GLOVE), VOCAB, freeze=False)
    assert report == {
        "found": 4,
        "total": 7,
        "coverage": 4 / 7,
        "missing_examples": ["<pad>", "<unk>", "zebra"],
    }
    weight = emb.weight.detach()
    torch.testing.assert_close(weight[2], torch.tensor([0.1, 0.2, 0.3]))
    torch.testing.assert_close(weight[3], torch.tensor([1.0, 2.0, 3.0]))  # 'Cat' <- 'cat'
    torch.testing.assert_close(weight[4], torch.tensor([-1.0, -2.0, -0.35]))
    torch.testing.assert_close(weight[5], torch.tensor([7.0, 8.0, 9.0]))  # exact beats lowercase
    torch.testing.assert_close(weight[6], before[6])  # missing: unchanged
    assert weight[0].abs().sum() == 0  # the padding row stays zero
    assert emb.weight.requires_grad


def test_word2vec_header_is_detected(tmp_path):
    emb = embedding()
    text = "3 3\nthe 0.1 0.2 0.3\nsat 1 1 1\nzebra 2 2 2\n"
    report = load_pretrained_vectors(emb, write(tmp_path, text), VOCAB, freeze=True)
    assert report["found"] == 3 and report["missing_examples"] == ["<pad>", "<unk>", "Cat", "Paris"]
    torch.testing.assert_close(emb.weight.detach()[6], torch.tensor([2.0, 2.0, 2.0]))
    assert not emb.weight.requires_grad


def test_header_count_must_match(tmp_path):
    with pytest.raises(DataError, match=r"vectors\.txt:1: the header announces 5 vectors but the file has 1"):
        load_pretrained_vectors(embedding(), write(tmp_path, "5 3\nthe 1 2 3\n"), VOCAB, freeze=False)


def test_crlf_trailing_spaces_and_blank_lines(tmp_path):
    emb = embedding()
    text = "the 1 2 3 \r\n\r\nsat\t4 5 6\r\n"
    assert load_pretrained_vectors(emb, write(tmp_path, text), VOCAB, freeze=False)["found"] == 2
    torch.testing.assert_close(emb.weight.detach()[4], torch.tensor([4.0, 5.0, 6.0]))


def test_bad_line_names_file_and_line(tmp_path):
    path = write(tmp_path, "the 1 2 3\ncat 1 2\n")
    with pytest.raises(DataError, match=r"vectors\.txt:2: expected a word and 3 values, found 2"):
        load_pretrained_vectors(embedding(), path, VOCAB, freeze=False)
    path = write(tmp_path, "the 1 2 3\ncat 1 2 3\nsat 1 two 3\n")
    with pytest.raises(DataError, match=r"vectors\.txt:3: 'two' is not a number"):
        load_pretrained_vectors(embedding(), path, VOCAB, freeze=False)
    path = write(tmp_path, "the 1 2 nan\n")
    with pytest.raises(DataError, match=r"vectors\.txt:1: non-finite"):
        load_pretrained_vectors(embedding(), path, VOCAB, freeze=False)


def test_a_bad_line_fails_even_for_words_outside_the_vocabulary(tmp_path):
    path = write(tmp_path, "the 1 2 3\nunrelated 1 2\n")
    with pytest.raises(DataError, match=r":2:"):
        load_pretrained_vectors(embedding(), path, VOCAB, freeze=False)


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_bytes(b"the 1 2 3\ncaf\xe9 1 2 3\n")
    with pytest.raises(DataError, match=r"vectors\.txt:2: invalid UTF-8 at byte 3"):
        load_pretrained_vectors(embedding(), path, VOCAB, freeze=False)


def test_dimension_mismatch_names_both_sizes(tmp_path):
    with pytest.raises(ConfigError, match="4 dimensions but the embedding size is 3"):
        load_pretrained_vectors(embedding(3), write(tmp_path, "the 1 2 3 4\n"), VOCAB, freeze=False)
    with pytest.raises(ConfigError, match="2 dimensions but the embedding size is 3"):
        load_pretrained_vectors(embedding(3), write(tmp_path, "10 2\nthe 1 2\n"), VOCAB, freeze=False)


def test_vocabulary_must_match_embedding_rows(tmp_path):
    with pytest.raises(ConfigError, match="vocabulary has 2 tokens but the embedding has 7 rows"):
        load_pretrained_vectors(embedding(), write(tmp_path, GLOVE), ["a", "b"], freeze=False)


def test_missing_or_empty_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        load_pretrained_vectors(embedding(), tmp_path / "nope.txt", VOCAB, freeze=False)
    with pytest.raises(DataError, match="no vectors"):
        load_pretrained_vectors(embedding(), write(tmp_path, "\n"), VOCAB, freeze=False)


def test_missing_examples_are_capped_at_ten(tmp_path):
    vocab = [f"w{i}" for i in range(15)]
    emb = nn.Embedding(15, 2)
    report = load_pretrained_vectors(emb, write(tmp_path, "w3 1 2\n"), vocab, freeze=False)
    assert report["found"] == 1 and report["total"] == 15
    assert report["missing_examples"] == [f"w{i}" for i in range(15) if i != 3][:10]
