"""Staging uploads: names, zips, headers and their signal files, trusting nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ecgml.serve.uploads import UploadError, safe_name, stage_uploads


@pytest.fixture
def record_files(write_wfdb) -> dict[str, bytes]:
    header = write_wfdb("A0001")
    return {p.name: p.read_bytes() for p in sorted(header.parent.glob("A0001.*"))}


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "upload"
    path.mkdir()
    return path


def test_a_header_and_its_signal_file_make_a_record(record_files, folder) -> None:
    headers = stage_uploads(record_files.items(), folder)
    assert headers == [folder / "A0001.hea"]
    assert sorted(p.name for p in folder.iterdir()) == ["A0001.dat", "A0001.hea"]


def test_a_zip_is_unpacked_without_its_folders(record_files, folder) -> None:
    archive = _zip({f"some/dir/{n}": c for n, c in record_files.items()} | {"__MACOSX/x": b""})
    assert stage_uploads([("records.zip", archive)], folder) == [folder / "A0001.hea"]
    assert sorted(p.name for p in folder.iterdir()) == ["A0001.dat", "A0001.hea"]


@pytest.mark.parametrize(
    "filename", ["../../etc/passwd.hea", "C:\\temp\\..\\A0001.hea", "/abs/A0001.hea"]
)
def test_only_the_base_name_of_a_path_is_kept(filename) -> None:
    assert safe_name(filename) in {"passwd.hea", "A0001.hea"}


@pytest.mark.parametrize(
    "filename", ["", None, "..", ".hidden.hea", "a b.hea", "x;rm.hea", "é.hea"]
)
def test_names_with_other_characters_are_refused(filename) -> None:
    with pytest.raises(UploadError, match="is not accepted") as info:
        safe_name(filename)
    assert info.value.status == 400


def test_a_header_without_its_signal_file_says_which_file(record_files, folder) -> None:
    with pytest.raises(UploadError, match=r"names signal file A0001\.dat, which was not uploaded"):
        stage_uploads([("A0001.hea", record_files["A0001.hea"])], folder)


@pytest.mark.parametrize(
    ("named", "message"),
    [
        ("../../secret.dat", "header does not parse"),  # wfdb refuses paths itself
        ("-A0001.dat", "not a plain file name"),  # wfdb accepts it, ecgml does not
    ],
)
def test_a_header_cannot_name_files_outside_the_folder(record_files, folder, named, message):
    header = record_files["A0001.hea"].decode().replace("A0001.dat", named)
    with pytest.raises(UploadError, match=message) as info:
        stage_uploads(
            [("A0001.hea", header.encode()), ("A0001.dat", record_files["A0001.dat"])], folder
        )
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        ([("notes.txt", b"hello")], r"no header \(.hea\)"),
        ([], "no files in the upload"),
        ([("A0001.zip", b"not a zip")], "not a valid zip file"),
        ([("A0001.hea", b"garbage\n")], "header does not parse"),
    ],
)
def test_wrong_formats_are_400_with_a_message(uploads, message, folder) -> None:
    with pytest.raises(UploadError, match=message) as info:
        stage_uploads(uploads, folder)
    assert info.value.status == 400


def test_files_no_header_names_are_refused(record_files, folder) -> None:
    with pytest.raises(UploadError, match=r"extra\.mat: no uploaded header names it"):
        stage_uploads([*record_files.items(), ("extra.mat", b"1234")], folder)


def test_a_zip_that_unpacks_too_large_is_413(record_files, folder) -> None:
    bomb = _zip({"A0001.hea": record_files["A0001.hea"], "A0001.dat": b"\0" * 2_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(UploadError, match="unpacks to more than 1 MB") as info:
        stage_uploads([("r.zip", bomb)], folder, max_bytes=1_000_000)
    assert info.value.status == 413
    assert list(folder.iterdir()) == []


def test_the_same_name_twice_is_refused(record_files, folder) -> None:
    with pytest.raises(UploadError, match=r"two files named A0001\.hea"):
        stage_uploads([*record_files.items(), ("x/A0001.hea", record_files["A0001.hea"])], folder)
