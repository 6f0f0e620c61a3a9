"""bench/lead_baseline.py: the sentence split, the truncation, and scores equal to score_outputs'."""

import json
import shutil
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_aeslc"
SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "lead_baseline.py"
sys.path.insert(0, str(SCRIPT.parent))
_module = sys.modules.get("lead_baseline")
if _module is not None and Path(getattr(_module, "__file__", None) or "").parent != SCRIPT.parent:
    del sys.modules["lead_baseline"]

import lead_baseline  # noqa: E402

from seqlab.data.readers.aeslc import read_emails  # noqa: E402
from seqlab.metrics.references import score_outputs  # noqa: E402


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Hi Greg,\nthe power trade moves to Friday.\nRegards,", "Hi Greg,"),
        ("Profits rose 76% to $1.13bn. The firm said so.", "Profits rose 76% to $1.13bn."),
        ("Really?  Yes.", "Really?"),
        ("Wow!\tNext one", "Wow!"),
        ("  \n\nno end   here", "no end here"),
        ("see e.g.x and v1.5 here. Then more", "see e.g.x and v1.5 here."),
        ("Call me.\r\nThanks", "Call me."),
        ("a line\r\nnext. line", "a line"),
    ],
)
def test_first_sentence_ends_at_punctuation_before_whitespace_or_at_a_line_break(text, first):
    assert lead_baseline.first_sentence(text) == first


def test_lead_truncates_the_first_sentence_to_the_word_budget():
    assert lead_baseline.lead("One two three four five. Six seven", 3) == "One two three"
    assert lead_baseline.lead("Short one. Long tail after it", 4) == "Short one."
    assert lead_baseline.lead("Hi Greg,\nthe power trade", 4) == "Hi Greg,"


@given(st.text(alphabet=st.sampled_from("ab.!? \n\r\t"), max_size=40), st.integers(1, 6))
def test_lead_is_a_prefix_of_the_source_words_within_the_budget(text, words):
    found = lead_baseline.lead(text, words).split()
    assert len(found) <= words
    assert found == text.split()[: len(found)]
    assert found or not text.split()  # leading blank lines are skipped: a source with words has a lead


def test_word_budget_is_the_mean_rounded_half_up():
    assert lead_baseline.word_budget(["a b", "c d e f"]) == (3.0, 3)
    assert lead_baseline.word_budget(["a", "b c"]) == (1.5, 2)
    assert lead_baseline.word_budget(["a", "b c", "d e"]) == (5 / 3, 2)


def test_aeslc_bodies_keep_the_line_breaks_of_the_readers_bodies(tmp_path):
    bodies = lead_baseline.aeslc_bodies(FIXTURE / "dev")
    assert set(bodies) == {email.body for email in read_emails(FIXTURE / "dev").emails}
    assert bodies["Hi Greg, the power trade moves to Friday. Regards, Mark"] == (
        "Hi Greg,\nthe power trade moves to Friday.\nRegards,\nMark"
    )
    archive = tmp_path / "dev.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(FIXTURE / "dev", arcname="dev")
    assert lead_baseline.aeslc_bodies(archive) == bodies


EXTRA_DEV = {  # leads that overlap their subjects, so that the scores are not all zero
    "zoe_dev_8.subject": "Budget meeting moved to Monday. Thanks\nZoe\n\n@subject\nBudget meeting\n\n"
    "@ann0\nbudget meeting moved\n\n@ann1\nmeeting on monday\n\n@ann2\nnew budget date\n",
    "zoe_dev_9.subject": "Gas contract signed!\nZoe\n\n@subject\nThe gas contract\n\n"
    "@ann0\ngas contract\n\n@ann1\ncontract signed\n\n@ann2\nsigned gas deal\n",
}


def test_scores_equal_score_outputs_on_the_same_strings(tmp_path, monkeypatch):
    dev = tmp_path / "dev"
    shutil.copytree(FIXTURE / "dev", dev)
    for name, text in EXTRA_DEV.items():
        (dev / name).write_text(text, encoding="utf-8")
    data = tmp_path / "data" / "seq2seq" / "aeslc"
    data.mkdir(parents=True)
    for folder, name in ((FIXTURE / "train", "aeslc_train.tar.gz"), (dev, "aeslc_dev.tar.gz")):
        with tarfile.open(data / name, "w:gz") as tar:
            tar.add(folder, arcname=folder.name)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "data"))
    out = tmp_path / "lead.json"
    lead_baseline.main(["--datasets", "aeslc", "--out", str(out)])
    rows = {row["split"]: row for row in json.loads(out.read_text(encoding="utf-8"))["rows"]}
    assert set(rows) == {"valid", "valid_ann"}

    train = read_emails(FIXTURE / "train").emails
    mean = sum(len(email.subject.split()) for email in train) / len(train)
    emails = read_emails(dev).emails
    raw = {e.body: Path(e.origin).read_text(encoding="utf-8").split("\n@subject")[0] for e in emails}
    splits = {"valid": [[e.subject] for e in emails], "valid_ann": [list(e.annotations) for e in emails]}
    for split, references in splits.items():
        row = rows[split]
        assert row["train_mean_words"] == pytest.approx(mean)
        assert row["lead_words"] == int(mean + 0.5)
        assert row["sources"] == len(emails) and row["references"] == sum(map(len, references))
        hyps = [lead_baseline.lead(raw[e.body], row["lead_words"]).lower() for e in emails]
        ref_tokens = [[r.lower().split() for r in refs] for refs in references]
        expected, _, _ = score_outputs(
            hyps, [h.split() for h in hyps], references, ref_tokens, ("rouge1", "rouge2", "rouge_l", "bleu")
        )
        assert {k: row["scores"][k] for k in expected} == pytest.approx(expected, abs=1e-9)
        assert expected["rouge_l"] > 0
        assert [sample["lead"] for sample in row["samples"]] == hyps[:5]  # lowercased, in source order
    assert {"hi greg,", "budget meeting", "gas contract"} <= set(hyps)  # line break, truncation, "!"
