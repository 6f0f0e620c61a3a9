import os
from pathlib import Path

import pytest
import torch

from seqlab.config import DataConfig, TokenizerConfig, VocabConfig
from seqlab.data.corpora.lm import (
    encode_file,
    encode_lines,
    load_lm_corpus,
    load_text_pipeline,
    reload_lm_corpus,
    split_lines,
)
from seqlab.data.readers.lines import read_lines
from seqlab.errors import DataError

SHARED = Path(os.environ.get("SEQLAB_DATA") or Path(__file__).resolve().parents[3].parent / "shared" / "data")


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_train_and_valid_files(tmp_path):
    train = write(tmp_path / "train.txt", ["a b c", "a b", "a <unk>"])
    valid = write(tmp_path / "valid.txt", ["a z"])
    cfg = DataConfig(train=str(train), valid=str(valid))
    corpus = load_lm_corpus(cfg, tmp_path / "run")
    vocab = corpus.vocab
    assert vocab.itos[4:] == ["a", "b", "c"]
    a, b, c, eos, unk = (vocab.stoi[t] for t in ("a", "b", "c", "<eos>", "<unk>"))
    assert corpus.train.tolist() == [a, b, c, eos, a, b, eos, a, unk, eos]
    assert corpus.valid.tolist() == [a, unk, eos]
    assert corpus.train.dtype == torch.long
    assert (tmp_path / "run" / "vocab.json").is_file()
    assert (tmp_path / "run" / "tokenizer" / "tokenizer.json").is_file()
    tokenizer, loaded_vocab = load_text_pipeline(tmp_path / "run")
    assert loaded_vocab == vocab
    assert torch.equal(encode_file(valid, tmp_path / "run"), corpus.valid)


def test_valid_fraction_and_no_eos(tmp_path):
    train = write(tmp_path / "t.txt", [f"w{i}" for i in range(10)])
    cfg = DataConfig(train=str(train), valid_fraction=0.2, add_eos=False)
    corpus = load_lm_corpus(cfg, tmp_path / "run")
    assert corpus.vocab.decode(corpus.train.tolist()) == [f"w{i}" for i in range(8)]
    assert corpus.vocab.decode(corpus.valid.tolist()) == ["<unk>", "<unk>"]


def test_reload_and_split_lines(tmp_path):
    train = write(tmp_path / "t.txt", ["b a", "c a", "d e", "f g"])
    cfg = DataConfig(train=str(train), valid_fraction=0.25)
    assert split_lines(cfg) == (["b a", "c a", "d e"], ["f g"])
    corpus = load_lm_corpus(cfg, tmp_path / "run")
    vocab_bytes = (tmp_path / "run" / "vocab.json").read_bytes()
    write(train, ["b a", "c a", "d e", "f g", "zz a"])  # new text must not change the saved vocab
    again = reload_lm_corpus(DataConfig(train=str(train), valid_fraction=0.2), tmp_path / "run")
    assert (tmp_path / "run" / "vocab.json").read_bytes() == vocab_bytes
    assert again.vocab == corpus.vocab
    unk, eos = again.vocab.unk_id, again.vocab.eos_id
    assert again.train.tolist() == corpus.train.tolist() + [unk, unk, eos]  # "f g" is now training text
    assert again.valid.tolist() == [again.vocab.unk_id, again.vocab.stoi["a"], again.vocab.eos_id]


def test_no_valid_at_all_is_an_error(tmp_path):
    train = write(tmp_path / "t.txt", ["x y"])
    with pytest.raises(DataError, match="valid_fraction"):
        load_lm_corpus(DataConfig(train=str(train)), tmp_path / "run")


def test_vocab_limits_and_char_tokenizer(tmp_path):
    train = write(tmp_path / "t.txt", ["aaab", "aac", "中中"])
    cfg = DataConfig(
        train=str(train),
        valid=str(train),
        tokenizer=TokenizerConfig(kind="char"),
        vocab=VocabConfig(min_freq=2),
    )
    corpus = load_lm_corpus(cfg, tmp_path / "run")
    assert corpus.vocab.itos[4:] == ["a", "中"]


def test_encode_lines_sentencepiece(tmp_path):
    lines = ["the quick brown fox", "jumps over the lazy dog"] * 30
    train = write(tmp_path / "t.txt", lines)
    cfg = DataConfig(
        train=str(train),
        valid=str(train),
        tokenizer=TokenizerConfig(kind="sentencepiece", sp_vocab_size=30, sp_model_type="bpe"),
    )
    corpus = load_lm_corpus(cfg, tmp_path / "run")
    tokenizer, vocab = load_text_pipeline(tmp_path / "run")
    ids = encode_lines(["the lazy fox"], tokenizer, vocab, add_eos=True)
    assert ids[-1].item() == vocab.eos_id
    assert tokenizer.detokenize(vocab.decode(ids.tolist())) == "the lazy fox"
    assert torch.equal(corpus.valid, corpus.train)


def test_invalid_utf8_surfaces(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xfe\n")
    with pytest.raises(DataError, match=r"bad.txt:2"):
        load_lm_corpus(DataConfig(train=str(path), valid_fraction=0.5), tmp_path / "run")


@pytest.mark.skipif(not (SHARED / "lm" / "ptb").is_dir(), reason="shared data folder absent")
def test_real_ptb_valid(tmp_path):
    lines = read_lines(SHARED / "lm" / "ptb" / "ptb.valid.txt")
    assert len(lines) == 3370
    cfg = DataConfig(train=str(SHARED / "lm" / "ptb" / "ptb.valid.txt"), valid_fraction=0.1)
    corpus = load_lm_corpus(cfg, tmp_path)
    assert corpus.train.numel() + corpus.valid.numel() == 73760  # the usual PTB valid size
    assert "<unk>" not in corpus.vocab.itos[4:]


def test_pair_side_reads_one_side_of_a_seq2seq_dataset(tmp_path, monkeypatch, dailydialog_zips):
    dailydialog_zips(
        tmp_path,
        "Hello . __eou__ Hi . __eou__ How are you ? __eou__\n",
        "Where to ? __eou__ Home . __eou__\n",
    )
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    replies = DataConfig(dataset="dailydialog", pair_side="target", lm_mode="lines")
    assert split_lines(replies) == (["Hi .", "How are you ?"], ["Home ."])
    contexts = DataConfig(dataset="dailydialog", pair_side="source", context_turns=2)
    assert split_lines(contexts) == (["Hello .", "Hello . <turn> Hi ."], ["Where to ?"])
    corpus = load_lm_corpus(replies, tmp_path / "run")
    assert [corpus.vocab.decode(line) for line in corpus.train_lines] == [
        ["Hi", "."],
        ["How", "are", "you", "?"],
    ]


def test_pair_side_on_a_dataset_without_pairs_names_the_seq2seq_datasets(tmp_path):
    from seqlab.errors import ConfigError

    with pytest.raises(ConfigError, match=r"pair_side = 'target'.*ptb.*not a seq2seq one.*dailydialog"):
        split_lines(DataConfig(dataset="ptb", pair_side="target"))
    with pytest.raises(ConfigError, match=r"dailydialog.*seq2seq dataset.*pair_side: source\|target"):
        split_lines(DataConfig(dataset="dailydialog"))
