"""AESLC reader: body -> @subject pairs from a tar.gz (read in memory) or a folder, the @ann
subjects as extra references, and a file without @subject (or with an empty side) failing with the
file inside the archive or skipped and counted."""

import io
import tarfile

import pytest

from seqlab.data.readers.aeslc import annotation_pairs, parse_email, read_emails, subject_pairs
from seqlab.errors import DataError

TRAIN_EMAIL = (
    "Hi Phillip,  the meeting is on Tuesday.\n@ bob@x.com wrote\nThanks,\n\n@subject\nMeeting  Tuesday\n"
)
DEV_EMAIL = (
    "Please send the report.\n\n@subject\nReport\n\n@ann0\nsend report\n\n@ann1\nreport request\n\n"
    "@ann2\nthe report\n"
)


def write_tar(path, files: dict[str, str]):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"enron_subject_line/dev/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_body_and_subject_are_joined_into_one_line_each():
    email = parse_email(TRAIN_EMAIL, "x.subject")
    assert email.body == "Hi Phillip, the meeting is on Tuesday. @ bob@x.com wrote Thanks,"
    assert email.subject == "Meeting Tuesday" and email.annotations == ()


def test_a_tar_gz_gives_subject_pairs_and_annotation_pairs(tmp_path):
    path = write_tar(
        tmp_path / "dev.tar.gz", {"a.subject": DEV_EMAIL, "b.subject": TRAIN_EMAIL, "README": "x"}
    )
    report = read_emails(path)
    assert [e.origin for e in report.emails] == [
        f"{path}:enron_subject_line/dev/a.subject",
        f"{path}:enron_subject_line/dev/b.subject",
    ]
    assert [(p.source, p.target) for p in subject_pairs(report).pairs] == [
        ("Please send the report.", "Report"),
        ("Hi Phillip, the meeting is on Tuesday. @ bob@x.com wrote Thanks,", "Meeting Tuesday"),
    ]
    annotated = annotation_pairs(report).pairs
    assert [p.target for p in annotated] == ["send report", "report request", "the report"]
    assert {p.source for p in annotated} == {"Please send the report."}
    assert annotated[2].origin.endswith("a.subject (@ann2)")


def test_a_folder_of_subject_files_reads_like_the_archive(tmp_path):
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "b.subject").write_text(TRAIN_EMAIL, encoding="utf-8")
    (tmp_path / "dev" / "a.subject").write_text(DEV_EMAIL, encoding="utf-8")
    assert [e.subject for e in read_emails(tmp_path).emails] == ["Report", "Meeting Tuesday"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("A body without a subject marker.\nsubject: none\n", "c.subject: no '@subject' line"),
        ("\n\n@subject\nA subject\n", "c.subject:3: the body before '@subject' is empty"),
        ("A body.\n@subject\n\n", "c.subject:2: '@subject' is followed by no text"),
        ("A body.\n@subject\nS\n@ann0\n\n@ann1\nx\n", "c.subject:4: '@ann0' is followed by no text"),
    ],
)
def test_a_malformed_file_fails_naming_it_inside_the_archive_or_is_skipped(tmp_path, text, problem):
    path = write_tar(tmp_path / "dev.tar.gz", {"a.subject": DEV_EMAIL, "c.subject": text})
    with pytest.raises(DataError) as info:
        read_emails(path)
    assert f"{path}:enron_subject_line/dev/{problem}" in str(info.value)
    assert "on_error: skip" in str(info.value)
    report = read_emails(path, on_error="skip")
    assert len(report.emails) == 1 and len(report.skipped) == 1
    assert subject_pairs(report).skipped == report.skipped


def test_unreadable_inputs_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        read_emails(tmp_path / "missing.tar.gz")
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar")
    with pytest.raises(DataError, match="not a readable tar archive"):
        read_emails(broken)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no \\*.subject files"):
        read_emails(tmp_path / "empty")
    with tarfile.open(tmp_path / "latin1.tar.gz", "w:gz") as archive:
        data = "café\n@subject\nx\n".encode("latin-1")
        info = tarfile.TarInfo("a.subject")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(DataError, match="a.subject:1: invalid UTF-8"):
        read_emails(tmp_path / "latin1.tar.gz")
