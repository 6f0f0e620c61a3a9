"""Parallel readers: aligned files (mismatch names both files and both wc -l counts), TSV, JSONL,
and pairs with an empty side dropped as a pair and counted."""

import gzip
import json
import subprocess

import pytest

from seqlab.data.readers.parallel import count_newlines, read_jsonl_pairs, read_parallel_files, read_tsv_pairs
from seqlab.errors import DataError


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def wc_l(path):
    return int(
        subprocess.run(["wc", "-l", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]
    )


def test_mismatched_files_fail_naming_both_files_and_both_counts(tmp_path):
    src = write(tmp_path / "train.src", "a\nb\nc\n")
    tgt = write(tmp_path / "train.tgt", "x\ny\n")
    with pytest.raises(DataError) as info:
        read_parallel_files(src, tgt)
    message = str(info.value)
    assert str(src) in message and str(tgt) in message
    assert f"has {wc_l(src)} lines" in message and f"has {wc_l(tgt)} lines" in message
    assert (wc_l(src), wc_l(tgt)) == (3, 2)


def test_counts_equal_wc_l_without_final_newline_and_gzip(tmp_path):
    src = write(tmp_path / "s.txt", "a\nb\nc")  # wc -l says 2
    tgt = write(tmp_path / "t.txt", "x\n")
    assert count_newlines(src) == wc_l(src) == 2
    with pytest.raises(DataError, match=r"has 2 lines \(3 counting a last line without newline\)"):
        read_parallel_files(src, tgt)
    packed = tmp_path / "s.txt.gz"
    packed.write_bytes(gzip.compress(b"a\nb\n"))
    assert count_newlines(packed) == 2


def test_empty_side_drops_the_pair_and_keeps_the_rest_aligned(tmp_path):
    src = write(tmp_path / "s", "one\n\nthree\nfour\n")
    tgt = write(tmp_path / "t", "eins\nzwei\n   \nvier\n")
    report = read_parallel_files(src, tgt)
    assert [(p.source, p.target) for p in report.pairs] == [("one", "eins"), ("four", "vier")]
    assert report.dropped_empty == [f"{src}:2", f"{src}:3"]
    assert report.pairs[1].origin == f"{src}:4"


def test_tsv_columns_latin1_and_errors(tmp_path):
    path = write(tmp_path / "g2p.tsv", "CAFÉ\tK AE F EY\nDOG\tD AO G\n\nX\t\n", encoding="latin-1")
    report = read_tsv_pairs(path, encoding="latin-1")
    assert [(p.source, p.target) for p in report.pairs] == [("CAFÉ", "K AE F EY"), ("DOG", "D AO G")]
    assert len(report.dropped_empty) == 2
    swapped = read_tsv_pairs(write(tmp_path / "b.tsv", "en\tzh\tnote\n"), "1", "0")
    assert (swapped.pairs[0].source, swapped.pairs[0].target) == ("zh", "en")
    with pytest.raises(DataError, match=r"c.tsv:2: 1 column\(s\)"):
        read_tsv_pairs(write(tmp_path / "c.tsv", "a\tb\nonly\n"))


def test_jsonl_fields_and_errors(tmp_path):
    lines = [{"source": "a", "target": "b"}, {"source": "", "target": "c"}, {"src": "x", "tgt": "y"}]
    path = write(tmp_path / "p.jsonl", "\n".join(json.dumps(r) for r in lines[:2]) + "\n")
    report = read_jsonl_pairs(path)
    assert [(p.source, p.target) for p in report.pairs] == [("a", "b")]
    assert report.dropped_empty == [f"{path}:2"]
    other = write(tmp_path / "q.jsonl", json.dumps(lines[2]) + "\n")
    assert read_jsonl_pairs(other, "src", "tgt").pairs[0].target == "y"
    with pytest.raises(DataError, match=r"q.jsonl:1: no field 'source'"):
        read_jsonl_pairs(other)
    with pytest.raises(DataError, match=r"r.jsonl:1: not valid JSON"):
        read_jsonl_pairs(write(tmp_path / "r.jsonl", "{oops\n"))


def test_a_tsv_line_with_an_extra_column_names_file_line_and_the_columns_expected(tmp_path):
    # issue 14 item 10: "a\tb\tc" was read as the pair (a, b), the c silently lost
    path = write(tmp_path / "pairs.tsv", "a\tb\nx\ty\tz\n")
    with pytest.raises(DataError, match=r"pairs.tsv:2: 3 columns, expected 2 \(source<TAB>target\)"):
        read_tsv_pairs(path)
    report = read_tsv_pairs(path, on_error="skip")
    assert [(p.source, p.target) for p in report.pairs] == [("a", "b")]
    assert len(report.skipped) == 1 and report.skipped[0].startswith(f"{path}:2: 3 columns")
    # columns picked by number: a wider file is what the user asked for
    assert [p.source for p in read_tsv_pairs(path, "0", "1", on_error="fail").pairs] == ["a", "x"]


def test_a_short_tsv_line_is_skipped_under_on_error_skip(tmp_path):
    path = write(tmp_path / "pairs.tsv", "a\tb\nonly\n")
    report = read_tsv_pairs(path, on_error="skip")
    assert [p.source for p in report.pairs] == ["a"] and report.skipped[0].startswith(f"{path}:2: 1 column")


def test_the_seq2seq_corpus_reads_tsv_with_the_configs_on_error(tmp_path):
    from seqlab.config import config_from_dict
    from seqlab.data.corpora.seq2seq import read_pair_file

    path = write(tmp_path / "pairs.tsv", "a\tb\nx\ty\tz\n")
    raw = {"task": "seq2seq", "data": {"format": "tsv", "train": str(path), "valid_fraction": 0.5}}
    with pytest.raises(DataError, match="pairs.tsv:2: 3 columns"):
        read_pair_file(config_from_dict(raw), path)
    raw["data"]["on_error"] = "skip"
    assert len(read_pair_file(config_from_dict(raw), path).pairs) == 1
