"""word2vec vectors trained on a tiny fixture: the file loads into an embedding with full coverage,
its words are the word tokenizer's tokens, runs are reproducible, bad settings fail clearly, and the
``seqlab vectors train`` CLI writes the file."""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from seqlab.cli import main
from seqlab.config import TokenizerConfig
from seqlab.errors import ConfigError
from seqlab.text import build_tokenizer
from seqlab.text.vectors import load_pretrained_vectors
from seqlab.text.word2vec import Word2VecSettings, split_punctuation, train_word2vec, write_word2vec_text

pytest.importorskip("gensim")  # the optional extra `vectors` (also in `dev`)

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "tests" / "fixtures" / "tiny_cls_train.tsv"
TINY = Word2VecSettings(dim=8, window=2, min_count=1, epochs=3, seed=3)


def fixture_sentences() -> list[list[str]]:
    tokenizer = build_tokenizer(TokenizerConfig(kind="word", lowercase=True))
    texts = [line.rsplit("\t", 1)[0] for line in TRAIN.read_text(encoding="utf-8").splitlines()]
    return [tokenizer.tokenize(text) for text in texts]


def read_words(path: Path) -> list[str]:
    return [line.split(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def test_written_file_loads_into_an_embedding_with_every_word(tmp_path):
    sentences = fixture_sentences()
    vectors = train_word2vec(sentences, TINY)
    path = tmp_path / "w2v.txt"
    count = write_word2vec_text(vectors, path)
    words = sorted({token for sentence in sentences for token in sentence})
    assert count == len(words)
    assert path.read_text(encoding="utf-8").splitlines()[0] == f"{len(words)} 8"
    tokens = ["<pad>", "<unk>", *words]
    embedding = nn.Embedding(len(tokens), 8, padding_idx=0)
    report = load_pretrained_vectors(embedding, path, tokens, freeze=True)
    assert report["found"] == len(words)
    assert report["missing_examples"] == ["<pad>", "<unk>"]
    for word in ("coffee", "weekend"):
        expected = torch.tensor(vectors[word])
        torch.testing.assert_close(embedding.weight[tokens.index(word)], expected, rtol=1e-5, atol=1e-6)


def test_same_settings_give_the_same_file_and_another_seed_does_not(tmp_path):
    sentences = fixture_sentences()
    paths = [tmp_path / f"{i}.txt" for i in range(3)]
    write_word2vec_text(train_word2vec(sentences, TINY), paths[0])
    write_word2vec_text(train_word2vec(sentences, TINY), paths[1])
    other = Word2VecSettings(**{**TINY.__dict__, "seed": 4})
    write_word2vec_text(train_word2vec(sentences, other), paths[2])
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_invalid_settings_are_all_reported():
    bad = Word2VecSettings(dim=0, window=0, epochs=0, sample=-1.0)
    with pytest.raises(ConfigError) as info:
        train_word2vec(fixture_sentences(), bad)
    for name in ("dim = 0", "window = 0", "epochs = 0", "sample = -1.0"):
        assert name in str(info.value)


def test_min_count_above_every_frequency_fails_clearly():
    with pytest.raises(ConfigError, match="min_count = 1000"):
        train_word2vec(fixture_sentences(), Word2VecSettings(dim=8, min_count=1000))


def test_cli_writes_the_word_tokenizer_tokens_lowercased(tmp_path, capsys):
    texts = ["The Film was GREAT, really great.", "A dull film ; the Actors were dull", "Great actors !"]
    data = tmp_path / "reviews.jsonl"
    data.write_text("".join(json.dumps({"review": t, "label": 1}) + "\n" for t in texts), encoding="utf-8")
    out = tmp_path / "vectors" / "tiny.txt"
    args = ["vectors", "train", "--train", str(data), "--text-field", "review", "-o", str(out)]
    assert main([*args, "--dim", "8", "--min-count", "1", "--epochs", "2", "--window", "2"]) == 0
    assert f"{out}: 13 words x 8 dimensions, from 3 texts" in capsys.readouterr().out
    tokenizer = build_tokenizer(TokenizerConfig(kind="word", lowercase=True))
    expected = {token for text in texts for token in tokenizer.tokenize(text)}
    assert set(read_words(out)) == expected
    assert {"great,", "great.", "great", "film", "actors"} <= expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Don't (really) like it, sadly.", "Do n't -lrb- really -rrb- like it , sadly ."),
        ("He said \"it's great\"...<br /><br />Won't", "He said `` it 's great '' ... Wo n't"),
        ("we'll see; they're fine -- i'm sure!", "we 'll see ; they 're fine -- i 'm sure !"),
        ("e.t. is back", "e.t. is back"),
    ],
)
def test_split_punctuation_follows_the_treebank_conventions_of_sst2(raw, expected):
    assert split_punctuation(raw) == expected


def test_cli_split_punctuation_gives_treebank_tokens(tmp_path):
    data = tmp_path / "reviews.txt"
    data.write_text("It wasn't good, it was GREAT.\nIt isn't bad (really).\n", encoding="utf-8")
    out = tmp_path / "ptb.txt"
    args = ["vectors", "train", "--train", str(data), "--format", "text", "--split-punctuation"]
    assert main([*args, "-o", str(out), "--dim", "4", "--min-count", "1", "--epochs", "1"]) == 0
    assert {"n't", ",", ".", "-lrb-", "-rrb-", "was", "great", "is"} <= set(read_words(out))
    assert "wasn't" not in read_words(out)


def test_cli_needs_exactly_one_source(tmp_path, capsys):
    out = str(tmp_path / "x.txt")
    assert main(["vectors", "train", "-o", out]) == 2
    assert main(["vectors", "train", "--dataset", "imdb", "--train", str(TRAIN), "-o", out]) == 2
    assert "exactly one of --dataset NAME and --train FILE" in capsys.readouterr().err
