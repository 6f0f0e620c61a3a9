import zipfile
from pathlib import Path

import pytest

from seqlab.data.readers.tagged import (
    read_brown_zip,
    read_conll,
    read_word_tag,
    simplify_brown_tag,
    tag_counts,
)
from seqlab.errors import ConfigError, DataError

REAL_BROWN = next(
    (
        p
        for p in (Path("/work/shared/data/tag/brown.zip"), Path("/work/shared/data/tag/brown/brown.zip"))
        if p.is_file()
    ),
    None,
)


def test_word_tag_last_separator_splits_and_blank_lines_skipped(tmp_path):
    path = tmp_path / "tagged.txt"
    path.write_text("The/DT price/NN rose/VBD 1/2/CD ./.\n\n  \nhttp://x/NN ok/JJ\n", encoding="utf-8")
    sentences = read_word_tag(path)
    assert len(sentences) == 2
    assert sentences[0].words == ["The", "price", "rose", "1/2", "."]
    assert sentences[0].tags == ["DT", "NN", "VBD", "CD", "."]
    assert (sentences[1].words, sentences[1].line, sentences[1].source) == (["http://x", "ok"], 4, str(path))


def test_word_tag_from_lines_and_other_separator():
    sentences = read_word_tag(["a_b_X c_Y"], sep="_")
    assert sentences[0].words == ["a_b", "c"] and sentences[0].tags == ["X", "Y"]
    assert sentences[0].source == "<lines>"


def test_word_tag_token_without_tag_names_file_line_and_token(tmp_path):
    path = tmp_path / "tagged.txt"
    path.write_text("a/DT b/NN\nthe/DT cat sat/VBD\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{path}:2: token 'cat' \(token 2 of the line\)"):
        read_word_tag(path)
    for bad in ("word/", "/TAG"):
        with pytest.raises(DataError, match=f"<lines>:1: token '{bad}'"):
            read_word_tag([bad])
    with pytest.raises(ConfigError):
        read_word_tag(["a/b"], sep="")


def test_conll_docstart_sentences_and_columns(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n\nPeter NNP B-NP B-PER\n"
        "-DOCSTART- -X- -X- O\nBlair NNP B-NP I-PER\n",
        encoding="utf-8",
    )
    sentences = read_conll(path)
    assert [s.words for s in sentences] == [["EU", "rejects"], ["Peter"], ["Blair"]]
    assert [s.tags for s in sentences] == [["B-ORG", "O"], ["B-PER"], ["I-PER"]]
    assert [s.line for s in sentences] == [3, 7, 9]
    pos = read_conll(path, tag_column=1)
    assert pos[0].tags == ["NNP", "VBZ"]


def test_conll_too_few_columns_names_file_line(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text("EU B-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{path}:2: 1 column\(s\) in 'rejects': expected at least 2"):
        read_conll(path)
    with pytest.raises(DataError, match=rf"{path}:1: 2 column\(s\).*expected at least 4"):
        read_conll(path, tag_column=3)


def test_simplify_brown_tag():
    cases = {
        "nn-tl": "nn",
        "nn-tl-hl": "nn",
        "vbn-tl-nc": "vbn",
        "fw-nn": "nn",
        "fw-in+at-tl": "in+at",
        "md*": "md",
        "do*-hl": "do",
        "*": "*",
        "fw-*": "*",
        "---hl": "--",
        ".-hl": ".",
        "ppss+md": "ppss+md",
        "np$": "np$",
        "nn": "nn",
    }
    assert {tag: simplify_brown_tag(tag) for tag in cases} == cases


def build_zip(path, files, cats=True):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("brown/", "")
        for name, text in files.items():
            archive.writestr(f"brown/{name}", text.encode("utf-8"))
        archive.writestr("brown/README", "BROWN CORPUS\n")
        archive.writestr("brown/CONTENTS", "contents\n")
        if cats:
            archive.writestr("brown/cats.txt", "".join(f"{name} news\n" for name in sorted(files)))
    return path


def test_brown_zip_split_by_file(tmp_path):
    files = {f"ca{i:02d}": f"\n\n\tThe/at file{i}/nn-tl ./.\n\n\n\tA/at b/nn\n" for i in range(1, 8)}
    for cats in (True, False):
        path = build_zip(tmp_path / f"brown{cats}.zip", files, cats=cats)
        train, valid = read_brown_zip(path, every=3)
        # sorted ca01..ca07: indices 2 and 5 (ca03, ca06) validate
        assert sorted({s.source.rsplit("/", 1)[1] for s in valid}) == ["ca03", "ca06"]
        assert len({s.source for s in train}) == 5
        assert len(train) == 10 and len(valid) == 4
        first = train[0]
        assert first.words == ["The", "file1", "."] and first.tags == ["at", "nn-tl", "."]
        assert first.source == f"{path}:brown/ca01" and first.line == 3
    train, _ = read_brown_zip(path, every=3, simplify=True)
    assert train[0].tags == ["at", "nn", "."]
    assert tag_counts(train)["at"] == 10


def test_brown_zip_errors(tmp_path):
    path = build_zip(tmp_path / "bad.zip", {"ca01": "\tThe/at\n\tdog\n"})
    with pytest.raises(DataError, match=rf"{path}:brown/ca01:2: token 'dog'"):
        read_brown_zip(path)
    path = tmp_path / "latin1.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("brown/ca01", b"\tcaf\xe9/nn\n")
    with pytest.raises(DataError, match=rf"{path}:brown/ca01:1: invalid UTF-8"):
        read_brown_zip(path)
    (tmp_path / "not.zip").write_bytes(b"nope")
    with pytest.raises(DataError, match="not a valid zip"):
        read_brown_zip(tmp_path / "not.zip")
    with pytest.raises(ConfigError):
        read_brown_zip(path, every=1)


@pytest.mark.skipif(REAL_BROWN is None, reason="the Brown corpus zip is not in /work/shared/data/tag")
def test_real_brown_zip():
    train, valid = read_brown_zip(REAL_BROWN)
    files = {s.source for s in train} | {s.source for s in valid}
    valid_files = {s.source for s in valid}
    assert len(files) == 500 and len(valid_files) == 50
    assert valid_files.isdisjoint({s.source for s in train})
    tokens = sum(len(s) for s in train + valid)
    assert 1_150_000 < tokens < 1_170_000
