"""The streamed zip and the multipart body around it, read back with zipfile."""

from __future__ import annotations

import io
import os
import threading
import zipfile
from pathlib import Path

import pytest

from xltv.archive import CHUNK_SIZE, MultipartBody, ZipStream
from xltv.collect import ResultFile, Selection, collect
from xltv.errors import CollectError


def files_in(root: Path) -> list[ResultFile]:
    return collect(str(root), Selection.parse(["**"], []))


def read_zip(stream: ZipStream) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(stream)))


def test_zip_contains_files_byte_for_byte(tmp_path: Path) -> None:
    contents = {
        "empty.xml": b"",
        "bom.xml": b"\xef\xbb\xbf<testsuite/>",
        "truncated.xml": b"<testsuite><testcase",
        "deep/a/b/c.xml": os.urandom(3 * CHUNK_SIZE + 17),
        "name with: colon.xml": b"<x/>",
    }
    for name, content in contents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)

    archive = read_zip(ZipStream(files_in(tmp_path)))

    assert sorted(archive.namelist()) == sorted(contents)
    for name, content in contents.items():
        assert archive.read(name) == content
    assert archive.testzip() is None


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_compression_levels_round_trip(tmp_path: Path, level: int) -> None:
    (tmp_path / "TEST-a.xml").write_text("<testcase/>" * 1000)

    archive = read_zip(ZipStream(files_in(tmp_path), level))
    info = archive.getinfo("TEST-a.xml")

    assert archive.read("TEST-a.xml") == (tmp_path / "TEST-a.xml").read_bytes()
    assert info.compress_type == (zipfile.ZIP_STORED if level == 0 else zipfile.ZIP_DEFLATED)


def test_size_counts_zip_bytes(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text("x" * 5000)
    stream = ZipStream(files_in(tmp_path))

    data = b"".join(stream)

    assert stream.size == len(data)


def test_each_iteration_makes_a_new_zip(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text("first")
    stream = ZipStream(files_in(tmp_path))

    first = b"".join(stream)
    second = b"".join(stream)

    assert first == second
    assert zipfile.ZipFile(io.BytesIO(second)).read("a.xml") == b"first"


def test_old_and_future_times_clamped(tmp_path: Path) -> None:
    old = tmp_path / "old.xml"
    future = tmp_path / "future.xml"
    old.write_text("o")
    future.write_text("f")
    os.utime(old, (0, 0))
    os.utime(future, (2**33, 2**33))

    archive = read_zip(ZipStream(files_in(tmp_path)))

    assert archive.getinfo("old.xml").date_time == (1980, 1, 1, 0, 0, 0)
    assert archive.getinfo("future.xml").date_time[0] == 2107


def test_vanished_file_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text("a")
    (tmp_path / "b.xml").write_text("b")
    files = files_in(tmp_path)
    (tmp_path / "b.xml").unlink()

    with pytest.raises(CollectError) as raised:
        b"".join(ZipStream(files))

    assert str(raised.value).startswith("cannot read b.xml: No such file or directory")


def test_reader_stopping_early_ends_worker(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(os.urandom(20 * CHUNK_SIZE))
    stream = iter(ZipStream(files_in(tmp_path), 0))

    next(stream)
    stream.close()  # type: ignore[attr-defined]

    assert "xltv-zip" not in [thread.name for thread in threading.enumerate()]


def test_multipart_body_layout(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text("<a/>")
    body = MultipartBody({"ciBuildNumber": "7", "team": "Zoë"}, ZipStream(files_in(tmp_path)))

    data = b"".join(body)

    boundary = body.boundary.encode()
    head = (
        b"--" + boundary + b"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
        b'{"ciBuildNumber": "7", "team": "Zo\xc3\xab"}\r\n'
        b"--" + boundary + b"\r\nContent-Type: application/zip\r\n\r\n"
    )
    assert data.startswith(head)
    assert data.endswith(b"\r\n--" + boundary + b"--\r\n")
    assert body.content_type == f"multipart/mixed; boundary={body.boundary}"
    zip_bytes = data[len(head) : -len(b"\r\n--" + boundary + b"--\r\n")]
    assert zipfile.ZipFile(io.BytesIO(zip_bytes)).read("a.xml") == b"<a/>"
