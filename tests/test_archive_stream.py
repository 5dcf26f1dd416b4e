"""The streamed zip is byte for byte the zip that zipfile writes alone, whatever the threads do."""

from __future__ import annotations

import io
import os
import random
import threading
import zipfile
from pathlib import Path

import pytest

from xltv import archive
from xltv.archive import AHEAD_FILES, AHEAD_MAX_FILE, AHEAD_MIN_FILE, CHUNK_SIZE, ZipStream
from xltv.collect import ResultFile


class Unseekable(io.RawIOBase):
    """An in-memory stream that zipfile cannot seek, like the request body."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.data += data
        return len(data)


def reference_zip(files: list[ResultFile], level: int) -> bytes:
    """Write the zip with zipfile alone, in this thread, as `zip` users would expect it."""
    stream = Unseekable()
    compression = zipfile.ZIP_DEFLATED if level > 0 else zipfile.ZIP_STORED
    with zipfile.ZipFile(
        stream,
        "w",
        compression=compression,
        compresslevel=level if level > 0 else None,
        allowZip64=True,
        strict_timestamps=False,
    ) as archive:
        for result in files:
            archive.write(result.path, result.name)
    return bytes(stream.data)


def make_files(root: Path) -> list[ResultFile]:
    """Make files of many sizes: empty, tiny, around the chunk size, and several chunks."""
    rng = random.Random(7)
    words = [f"word{index}" for index in range(300)]
    sizes = [0, 1, 100, 70_000, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17]
    sizes += [AHEAD_MAX_FILE, AHEAD_MAX_FILE + 1]
    sizes += [rng.randint(0, 40_000) for _ in range(60)]
    files = []
    for index, size in enumerate(sizes):
        text = " ".join(rng.choice(words) for _ in range(size // 5 + 1)).encode()[:size]
        if index % 3 == 0:
            text = rng.randbytes(size)  # incompressible, so deflate stores blocks
        name = f"module-{index % 4}/TEST-{index}.xml"
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text)
        files.append(ResultFile(path=str(path), name=name, size=size))
    return files


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_stream_same_as_zipfile(tmp_path: Path, level: int) -> None:
    files = make_files(tmp_path)

    streamed = b"".join(ZipStream(files, level))

    assert streamed == reference_zip(files, level)


@pytest.mark.parametrize("workers", [0, 1, 2, 4])
def test_stream_same_with_any_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    files = make_files(tmp_path)
    monkeypatch.setattr(archive, "deflate_workers", lambda level: workers)

    streamed = b"".join(ZipStream(files, 6))

    assert streamed == reference_zip(files, 6)


def test_stream_more_files_than_window(tmp_path: Path) -> None:
    files = []
    for index in range(3 * AHEAD_FILES + 5):
        path = tmp_path / f"r{index:04}.xml"
        cases = "<testcase/>" * (AHEAD_MIN_FILE // 11 + index % 50)
        path.write_text(f"<testsuite name='s{index}'>{cases}</testsuite>")
        files.append(ResultFile(path=str(path), name=path.name, size=path.stat().st_size))

    streamed = b"".join(ZipStream(files, 6))

    assert streamed == reference_zip(files, 6)


def test_stream_file_grown_since_collected(tmp_path: Path) -> None:
    files = make_files(tmp_path)[:3]
    grown = Path(files[1].path)
    grown.write_bytes(b"<testcase/>" * (AHEAD_MAX_FILE // 5))
    # The size recorded at collection is small, so the pool reads the file first.
    assert files[1].size < AHEAD_MAX_FILE

    streamed = b"".join(ZipStream(files, 6))

    assert streamed == reference_zip(files, 6)


def test_stream_same_on_every_iteration(tmp_path: Path) -> None:
    files = make_files(tmp_path)
    stream = ZipStream(files, 6)

    first = b"".join(stream)
    second = b"".join(stream)

    assert first == second
    assert stream.size == len(first)


def test_stream_contents_round_trip(tmp_path: Path) -> None:
    files = make_files(tmp_path)

    streamed = b"".join(ZipStream(files, 6))

    with zipfile.ZipFile(io.BytesIO(streamed)) as archive:
        assert archive.namelist() == [result.name for result in files]
        for result in files:
            assert archive.read(result.name) == Path(result.path).read_bytes()
        assert archive.testzip() is None


def test_stream_empty_file_list() -> None:
    assert b"".join(ZipStream([], 6)) == reference_zip([], 6)


def test_stream_keeps_file_times(tmp_path: Path) -> None:
    files = make_files(tmp_path)[:3]
    os.utime(files[0].path, (1_700_000_000, 1_700_000_000))

    streamed = b"".join(ZipStream(files, 6))

    assert streamed == reference_zip(files, 6)


def test_reader_stopping_early_ends_pool(tmp_path: Path) -> None:
    files = []
    for index in range(40):
        path = tmp_path / f"r{index}.bin"
        path.write_bytes(random.Random(index).randbytes(CHUNK_SIZE // 2))
        files.append(ResultFile(path=str(path), name=path.name, size=CHUNK_SIZE // 2))
    stream = iter(ZipStream(files, 6))

    next(stream)
    stream.close()  # type: ignore[attr-defined]

    names = [thread.name for thread in threading.enumerate()]
    assert not [name for name in names if name.startswith(("xltv-zip", "xltv-deflate"))]
