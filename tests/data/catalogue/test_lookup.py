import hashlib
import os
from pathlib import Path

import pytest

from seqlab.data.catalogue import lookup as catalogue
from seqlab.data.catalogue.lookup import (
    DatasetEntry,
    check_dataset,
    data_root,
    get_dataset,
    list_datasets,
    resolve_split,
)
from seqlab.errors import DataError

SHARED = Path(os.environ.get("SEQLAB_DATA") or Path(__file__).resolve().parents[3].parent / "shared" / "data")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """An empty data root and cache, so nothing real is found."""
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "root"))
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "root").mkdir()
    return tmp_path


def test_catalogue_contents():
    names = {entry.name for entry in list_datasets()}
    required = {
        "ptb",
        "wikitext2",
        "tinyshakespeare",
        "cmudict_words",
        "multi30k",
        "cmudict_g2p",
        "tatoeba_cmn_eng",
        "small_parallel_enja",
        "bbc_news_summary",
        "imdb",
        "sst2",
        "trec",
        "chnsenticorp",
        "brown",
        "dailydialog",
        "aeslc",
    }
    assert required <= names
    assert get_dataset("tinyshakespeare").valid_fraction == 0.1
    for entry in list_datasets():
        assert entry.task in {"lm", "seq2seq", "cls", "tag"}
        for relative in entry.splits.values():
            if entry.builtin is None:
                assert len(entry.sha256[relative]) == 64


def test_unknown_name_suggests():
    with pytest.raises(DataError) as info:
        get_dataset("ptbb")
    assert "did you mean 'ptb'" in str(info.value)
    assert "wikitext2" in str(info.value)


def test_unknown_split(isolated):
    with pytest.raises(DataError, match="no split 'test'"):
        resolve_split("ptb", "test")


def test_data_root_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    assert data_root() == tmp_path


def test_resolve_finds_file_under_root(isolated):
    target = isolated / "root" / "lm" / "ptb" / "ptb.valid.txt"
    target.parent.mkdir(parents=True)
    target.write_text("a b\n")
    assert resolve_split("ptb", "valid") == target
    with pytest.raises(DataError) as info:
        check_dataset("ptb")
    report = str(info.value)
    assert "MISMATCH" in report and "MISSING" in report


def _fake_entry(tmp_path, content: bytes, digest: str) -> DatasetEntry:
    source = tmp_path / "served.txt"
    source.write_bytes(content)
    return DatasetEntry(
        name="fake",
        description="test",
        task="lm",
        splits={"train": "fake/train.txt"},
        sha256={"fake/train.txt": digest},
        urls={"train": source.as_uri()},
    )


def test_download_verifies_checksum(isolated, monkeypatch):
    content = b"hello world\n"
    entry = _fake_entry(isolated, content, hashlib.sha256(content).hexdigest())
    monkeypatch.setitem(catalogue.DATASETS, "fake", entry)
    path = resolve_split("fake", "train")
    assert path == isolated / "cache" / "datasets" / "fake" / "train.txt"
    assert path.read_bytes() == content
    assert "sha256 ok" in check_dataset("fake")


def test_download_checksum_mismatch_deletes_file(isolated, monkeypatch):
    entry = _fake_entry(isolated, b"tampered\n", "0" * 64)
    monkeypatch.setitem(catalogue.DATASETS, "fake", entry)
    with pytest.raises(DataError, match="checksum mismatch"):
        resolve_split("fake", "train")
    folder = isolated / "cache" / "datasets" / "fake"
    assert not any(folder.iterdir())


def test_missing_without_url(isolated):
    with pytest.raises(DataError, match="SEQLAB_DATA"):
        resolve_split("imdb", "train")


def test_cmudict_words_materialised(isolated):
    train = resolve_split("cmudict_words", "train")
    valid = resolve_split("cmudict_words", "valid")
    assert str(train).startswith(str(isolated / "cache"))
    train_words = train.read_text().split("\n")[:-1]
    valid_words = valid.read_text().split("\n")[:-1]
    assert len(train_words) > 100_000 and len(valid_words) > 5_000
    assert abs(len(train_words) / len(valid_words) - 19) < 0.1
    assert not set(train_words) & set(valid_words)
    assert len(train_words) == len(set(train_words))  # no duplicates
    assert train_words != sorted(train_words)  # shuffled: contiguous LM streams see every letter
    for word in train_words[:2000] + valid_words:
        assert word and all("a" <= c <= "z" or c == "'" for c in word)
    assert "hello" in set(train_words) | set(valid_words)
    first = train.read_bytes()
    train.unlink()
    assert resolve_split("cmudict_words", "train").read_bytes() == first  # deterministic


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data folder absent")
def test_real_ptb_checks(monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA", str(SHARED))
    report = check_dataset("ptb")
    assert report.count("sha256 ok") == 2


@pytest.mark.skipif(not (SHARED / "MANIFEST.tsv").is_file(), reason="shared data folder absent")
def test_catalogue_digests_agree_with_the_shared_manifest():
    manifest = {}
    for line in (SHARED / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        path, _, digest, *_ = line.split("\t")
        manifest[path] = digest
    compared = 0
    for entry in list_datasets():
        for relative, digest in entry.sha256.items():
            if relative in manifest:
                assert digest == manifest[relative], (entry.name, relative)
                compared += 1
    assert {"dialogue/dailydialog/train.zip", "seq2seq/aeslc/aeslc_dev.tar.gz"} <= set(manifest)
    assert compared >= 4


@pytest.mark.skipif(not (SHARED / "dialogue").is_dir(), reason="shared dialogue data absent")
def test_real_dialogue_and_email_archives_check(monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA", str(SHARED))
    assert check_dataset("dailydialog").count("sha256 ok") == 2
    assert check_dataset("aeslc").count("sha256 ok") == 2
