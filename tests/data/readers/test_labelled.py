import gzip
import json

import pytest

from seqlab.data.readers.labelled import LabelledExample, LabelSet, holdout, read_labelled
from seqlab.errors import ConfigError, DataError


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_last_tab_separates_label(tmp_path):
    path = write(tmp_path, "train.tsv", "好\t的\tpositive\n房间太小。\tnegative\r\n")
    report = read_labelled(path, "tsv")
    assert [(e.text, e.label, e.line) for e in report.examples] == [
        ("好\t的", "positive", 1),
        ("房间太小。", "negative", 2),
    ]
    assert report.examples[0].source == str(path)
    assert report.skipped == [] and report.skipped_count == 0


def test_tsv_errors_name_file_line_and_what_was_expected(tmp_path):
    path = write(tmp_path, "train.tsv", "fine\tpositive\nno tab here\n")
    with pytest.raises(DataError, match=rf"{path}:2: no tab: expected 'text<TAB>label'"):
        read_labelled(path, "tsv")
    path = write(tmp_path, "empty_text.tsv", "fine\tpositive\n  \tnegative\n")
    with pytest.raises(DataError, match=rf"{path}:2: text is empty"):
        read_labelled(path, "tsv")
    path = write(tmp_path, "empty_label.tsv", "fine\t\n")
    with pytest.raises(DataError, match=rf"{path}:1: label is empty"):
        read_labelled(path, "tsv")


def test_label_text_and_blank_line_is_malformed(tmp_path):
    path = write(tmp_path, "sst", "1 a gorgeous film\n0 dull\n\n1 fine\n")
    with pytest.raises(DataError, match=rf"{path}:3: blank line"):
        read_labelled(path, "label_text")
    path = write(tmp_path, "sst2", "1 a gorgeous film\n0\n")
    with pytest.raises(DataError, match=rf"{path}:2: text is empty"):
        read_labelled(path, "label_text")


def test_skip_policy_counts_and_keeps_messages(tmp_path):
    path = write(tmp_path, "sst", "1 a gorgeous film\n\n0\n0 dull\n   \n")
    report = read_labelled(path, "label_text", on_error="skip")
    assert [(e.text, e.label, e.line) for e in report.examples] == [
        ("a gorgeous film", "1", 1),
        ("dull", "0", 4),
    ]
    assert report.skipped_count == 3
    assert [m.split(": ")[0] for m in report.skipped] == [f"{path}:2", f"{path}:3", f"{path}:5"]
    assert "3 lines skipped" in report.describe_skipped(limit=1)
    assert "... and 2 more" in report.describe_skipped(limit=1)


def test_nothing_left_is_an_error(tmp_path):
    path = write(tmp_path, "bad", "\n\n")
    with pytest.raises(DataError, match="no examples"):
        read_labelled(path, "label_text", on_error="skip")


def test_trec_coarse_labels(tmp_path):
    text = "DESC:manner How did serfdom develop ?\nENTY:cremat What films featured Popeye ?\n"
    path = write(tmp_path, "trec", text)
    fine = read_labelled(path, "label_text")
    assert [e.label for e in fine.examples] == ["DESC:manner", "ENTY:cremat"]
    coarse = read_labelled(path, "label_text", coarse_labels=True)
    assert [e.label for e in coarse.examples] == ["DESC", "ENTY"]
    assert coarse.examples[0].text == "How did serfdom develop ?"


def test_jsonl_fields_label_types_and_gz(tmp_path):
    rows = [
        {"text": "good", "label": 1},
        {"text": "bad", "label": False},
        {"text": "meh", "label": "neutral"},
    ]
    path = tmp_path / "val.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    report = read_labelled(path, "jsonl")
    assert [(e.text, e.label) for e in report.examples] == [
        ("good", "1"),
        ("bad", "False"),
        ("meh", "neutral"),
    ]
    path = write(tmp_path, "custom.jsonl", json.dumps({"review": "x", "stars": 5}) + "\n")
    report = read_labelled(path, "jsonl", text_field="review", label_field="stars")
    assert report.examples[0].label == "5"


def test_jsonl_missing_field_lists_keys_and_did_you_mean(tmp_path):
    path = write(
        tmp_path, "d.jsonl", json.dumps({"text": "ok", "label": 1}) + "\n" + json.dumps({"txt": "x"})
    )
    with pytest.raises(DataError) as info:
        read_labelled(path, "jsonl")
    message = str(info.value)
    assert f"{path}:2: field 'text' missing" in message
    assert "keys found: ['txt']" in message
    assert "did you mean 'txt'?" in message


def test_jsonl_malformed_lines(tmp_path):
    cases = {
        "{not json": "invalid JSON",
        "[1, 2]": "expected a JSON object, got list",
        '{"text": 3, "label": 1}': "field 'text': expected a string, got int",
        '{"text": "a", "label": [1]}': "field 'label': expected a string, int or bool, got list",
        '{"text": "", "label": 1}': "field 'text' is empty",
    }
    for number, (line, expected) in enumerate(cases.items()):
        path = write(tmp_path, f"case{number}.jsonl", '{"text": "a", "label": 0}\n' + line + "\n")
        with pytest.raises(DataError) as info:
            read_labelled(path, "jsonl")
        assert f"{path}:2: " in str(info.value) and expected in str(info.value), line
    report = read_labelled(path, "jsonl", on_error="skip")
    assert report.skipped_count == 1 and len(report.examples) == 1


def test_bad_arguments_are_config_errors(tmp_path):
    path = write(tmp_path, "x", "1 a\n")
    with pytest.raises(ConfigError, match="format = 'csv'"):
        read_labelled(path, "csv")
    with pytest.raises(ConfigError, match="on_error = 'ignore'"):
        read_labelled(path, "label_text", on_error="ignore")


def examples(*labels):
    return [LabelledExample(f"text {i}", label, "f.txt", i + 1) for i, label in enumerate(labels)]


def test_labelset_order_index_and_round_trip(tmp_path):
    labels = LabelSet.from_examples(examples("pos", "neg", "pos", "neu"))
    assert labels.labels == ("neg", "neu", "pos")
    assert labels.index("pos") == 2 and labels.label(0) == "neg" and len(labels) == 3
    numeric = LabelSet.from_examples(examples("10", "2", "0", "1"))
    assert numeric.labels == ("0", "1", "2", "10")
    path = tmp_path / "run" / "labels.json"
    labels.save(path)
    assert json.loads(path.read_text())["format_version"] == 1
    assert LabelSet.load(path) == labels
    with pytest.raises(DataError, match="unknown label 'x'.*'neg', 'neu', 'pos'"):
        labels.index("x")


def test_labelset_load_rejects_bad_files(tmp_path):
    path = tmp_path / "labels.json"
    with pytest.raises(DataError, match="no such label set file"):
        LabelSet.load(path)
    path.write_text(json.dumps({"format_version": 99, "labels": ["a"]}))
    with pytest.raises(DataError, match="format_version 99"):
        LabelSet.load(path)
    path.write_text(json.dumps({"format_version": 1, "labels": ["a", "a"]}))
    with pytest.raises(DataError, match="duplicate"):
        LabelSet.load(path)


def test_labelset_check_names_first_unknown_and_counts(tmp_path):
    labels = LabelSet.build(["neg", "pos"])
    valid = examples("pos", "neutral", "neg", "neutral", "mixed")
    with pytest.raises(DataError) as info:
        labels.check(valid, "the validation set")
    message = str(info.value)
    assert message.startswith("f.txt:2: label 'neutral' is not one of the 2 training labels: 'neg', 'pos'")
    assert "3 examples in the validation set have unknown labels: 'neutral' (2), 'mixed' (1)" in message
    report = labels.check(valid, "the validation set", on_error="skip")
    assert [e.line for e in report.examples] == [1, 3]
    assert report.skipped_count == 3 and report.skipped[0].startswith("f.txt:2:")
    assert labels.check(examples("pos", "neg")).skipped_count == 0


def test_holdout_deterministic_disjoint_and_ordered():
    data = examples(*[str(i % 3) for i in range(50)])
    train, valid = holdout(data, 0.1, seed=13)
    assert len(valid) == 5 and len(train) == 45
    assert {e.line for e in train}.isdisjoint({e.line for e in valid})
    assert sorted(train + valid, key=lambda e: e.line) == data
    assert [e.line for e in valid] == sorted(e.line for e in valid)
    assert holdout(data, 0.1, seed=13) == (train, valid)
    assert holdout(data, 0.1, seed=14)[1] != valid
    with pytest.raises(ConfigError):
        holdout(data, 1.0, seed=0)
    with pytest.raises(DataError, match="nothing would be left"):
        holdout(data[:1], 0.5, seed=0)


def test_invalid_utf8_line_fails_or_is_skipped_and_counted(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"1 fine text\n0 broken \xf0 text\n1 more text\n")
    with pytest.raises(DataError, match=r"bad.txt:2: invalid UTF-8"):
        read_labelled(path, "label_text")
    report = read_labelled(path, "label_text", on_error="skip")
    assert [e.line for e in report.examples] == [1, 3]
    assert report.skipped_count == 1 and "bad.txt:2:" in report.skipped[0]


def test_nothing_left_is_a_one_line_error_naming_the_first_skipped_line(tmp_path):
    # found by tests/data/readers/test_lines_properties.py: the message listed the skipped lines one a line
    path = write(tmp_path, "bad", "no tab here\nnor here\n")
    with pytest.raises(DataError) as info:
        read_labelled(path, "tsv", on_error="skip")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: no examples: 2 lines skipped, the first {path}:1: no tab")
