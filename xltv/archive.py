"""Stream the zip of the result files and the multipart/mixed body around it.

The zip is never held whole in memory or on disk. A worker thread compresses the files into
a bounded queue of chunks, and the request body reads the chunks as they come. zlib releases
the GIL, so compressing overlaps with sending. Memory stays at a few chunks whatever the
size of the results. zipfile writes data descriptors on a stream it cannot seek, and ZIP64
records for entries and archives over 4 GiB.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import secrets
import stat
import threading
import time
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from xltv.collect import ResultFile
from xltv.errors import CollectError

# Chunks of at least 256 KiB: large enough that sending costs few system calls, small enough
# that the queue, the chunk being sent and urllib3's framed copy of it stay under 2 MiB.
CHUNK_SIZE = 256 * 1024
QUEUE_CHUNKS = 4
READ_SIZE = 1024 * 1024
# The pool deflates files from AHEAD_MIN_FILE to AHEAD_MAX_FILE bytes, at most AHEAD_FILES
# files and AHEAD_BYTES of them ahead of the writer. The writer deflates the other files
# itself, because below 4 KiB handing a file to the pool costs more time than it saves.
AHEAD_MIN_FILE = 4 * 1024
AHEAD_MAX_FILE = 2 * 1024 * 1024
AHEAD_BYTES = 8 * 1024 * 1024
AHEAD_FILES = 256
MAX_DEFLATE_WORKERS = 4

JSON_PART_TYPE = "application/json; charset=utf-8"
ZIP_PART_TYPE = "application/zip"


class Cancelled(Exception):
    """The reader of the stream stopped, so the worker thread ends."""


class ChunkWriter:
    """A write-only file object that hands chunks of at least CHUNK_SIZE bytes to a queue.

    It has no `tell` or `seek`, so zipfile treats it as a stream.
    """

    def __init__(self, chunks: queue.Queue[bytes | BaseException | None], stop: threading.Event):
        self.chunks = chunks
        self.stop = stop
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK_SIZE:
            # The whole buffer goes as one chunk: one copy, where slicing took two.
            self.put(bytes(self.buffer))
            self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def close_stream(self) -> None:
        if self.buffer:
            self.put(bytes(self.buffer))
            self.buffer.clear()

    def put(self, item: bytes | BaseException | None) -> None:
        while True:
            if self.stop.is_set():
                raise Cancelled
            try:
                self.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


def set_compression(info: zipfile.ZipInfo, level: int) -> None:
    info.compress_type = zipfile.ZIP_DEFLATED if level > 0 else zipfile.ZIP_STORED
    # Python 3.13 renamed ZipInfo._compresslevel to compress_level.
    if hasattr(info, "compress_level"):
        info.compress_level = level
    else:
        info._compresslevel = level  # type: ignore[attr-defined]


def changed_error(result: ResultFile, reason: str) -> CollectError:
    return CollectError(
        f"cannot read {result.name}: {reason}; it was found but changed before it was "
        "sent, so nothing was imported"
    )


def open_result(result: ResultFile) -> tuple[BinaryIO, os.stat_result]:
    """Open a collected file again, and check that it is still a regular file.

    The path was a regular file, with no link in it, when it was collected. O_NOFOLLOW
    rejects a link put in its place since, and O_NONBLOCK keeps a FIFO put in its place
    from blocking the open forever.
    """
    try:
        descriptor = os.open(result.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise changed_error(result, "it is now a symbolic link") from None
        raise changed_error(result, error.strerror or str(error)) from None
    file_stat = os.fstat(descriptor)
    if not stat.S_ISREG(file_stat.st_mode):
        os.close(descriptor)
        raise changed_error(result, "it is no longer a regular file")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb"), file_stat


def write_zip(files: Iterable[ResultFile], level: int, stream: ChunkWriter) -> None:
    """Write the files into a zip on the stream, byte for byte as they are on disk.

    With two or more CPUs and compression on, a pool of threads deflates the small files
    ahead of this one, each file by itself with the settings zipfile uses, and this thread
    puts their output into the zip in order. The zip is the same as when zipfile deflates
    each file here, because deflate's output does not depend on how its input is split.
    """
    shared: dict[Any, Any] = {}
    workers = deflate_workers(level)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="xltv-deflate") if workers else None
    try:
        with zipfile.ZipFile(stream, "w", allowZip64=True) as archive:  # type: ignore[call-overload]
            for result, prepared in deflated_ahead(files, level, pool):
                if prepared is None:
                    write_entry(archive, result, level, shared)
                else:
                    write_prepared(archive, result, level, prepared, shared)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    stream.close_stream()


def write_entry(
    archive: zipfile.ZipFile, result: ResultFile, level: int, shared: dict[Any, Any]
) -> None:
    """Read the file in blocks and let zipfile deflate it."""
    source, file_stat = open_result(result)
    info = zip_info(result.name, file_stat, shared)
    set_compression(info, level)
    with source, archive.open(info, "w") as entry:
        while True:
            try:
                block = source.read(READ_SIZE)
            except OSError as error:
                raise CollectError(
                    f"cannot read {result.name}: {error.strerror}; nothing was imported"
                ) from None
            if not block:
                break
            entry.write(block)


@dataclass
class Prepared:
    """A small file read and deflated by the pool: its status, contents and deflate output."""

    file_stat: os.stat_result
    data: bytes
    deflated: bytes


class Replay:
    """A stand-in for zipfile's compressor that returns deflate output made earlier."""

    def __init__(self, deflated: bytes) -> None:
        self.deflated = deflated

    def compress(self, data: bytes) -> bytes:
        output, self.deflated = self.deflated, b""
        return output

    def flush(self) -> bytes:
        return self.compress(b"")


def write_prepared(
    archive: zipfile.ZipFile,
    result: ResultFile,
    level: int,
    prepared: Prepared,
    shared: dict[Any, Any],
) -> None:
    info = zip_info(result.name, prepared.file_stat, shared)
    set_compression(info, level)
    with archive.open(info, "w") as entry:
        # zipfile still computes the CRC and the sizes from the data. Where its private
        # _compressor attribute is missing (a future Python), it deflates the data again,
        # which is slower but writes the same bytes.
        if hasattr(entry, "_compressor"):
            entry._compressor = Replay(prepared.deflated)
        entry.write(prepared.data)


def deflate_workers(level: int) -> int:
    """Return the number of pool threads to deflate with: 0 for stored zips or one CPU."""
    if level == 0:
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_DEFLATE_WORKERS) if cpus > 1 else 0


def deflate_file(result: ResultFile, level: int) -> Prepared | None:
    """Read and deflate one file as zipfile would; None leaves it to write_entry.

    Errors also return None: write_entry then meets the same error and reports it.
    """
    try:
        source, file_stat = open_result(result)
        with source:
            if file_stat.st_size > AHEAD_MAX_FILE:
                return None
            data = source.read()
    except (CollectError, OSError):
        return None
    # zipfile makes the same compressor for ZIP_DEFLATED: raw deflate, 32 KiB window.
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Prepared(file_stat, data, compressor.compress(data) + compressor.flush())


def deflated_ahead(
    files: Iterable[ResultFile], level: int, pool: ThreadPoolExecutor | None
) -> Iterator[tuple[ResultFile, Prepared | None]]:
    """Yield each file in order, with its Prepared form when the pool made one.

    At most AHEAD_BYTES of files are read ahead of the file being written, so memory stays
    bounded. The other files are left to write_entry, which streams them.
    """
    if pool is None:
        for result in files:
            yield result, None
        return

    window: deque[tuple[ResultFile, Future[Prepared | None] | None]] = deque()
    window_bytes = 0
    for result in files:
        if AHEAD_MIN_FILE <= result.size <= AHEAD_MAX_FILE:
            window.append((result, pool.submit(deflate_file, result, level)))
            window_bytes += result.size
        else:
            window.append((result, None))
        while window and (window_bytes > AHEAD_BYTES or len(window) > AHEAD_FILES):
            window_bytes -= yield_size(window[0])
            yield resolve(window.popleft())
    while window:
        yield resolve(window.popleft())


def yield_size(item: tuple[ResultFile, Future[Prepared | None] | None]) -> int:
    return item[0].size if item[1] is not None else 0


def resolve(
    item: tuple[ResultFile, Future[Prepared | None] | None],
) -> tuple[ResultFile, Prepared | None]:
    result, future = item
    return result, future.result() if future is not None else None


def zip_info(name: str, file_stat: os.stat_result, shared: dict[Any, Any]) -> zipfile.ZipInfo:
    """Describe a file for the zip, with its time clamped to the format's 1980-2107 range.

    zipfile keeps every ZipInfo until it writes the central directory, so equal timestamps
    and attributes are stored once in `shared` instead of once per entry: for 40,000 files
    this saves about 6 MB.
    """
    date_time = time.localtime(file_stat.st_mtime)[:6]
    if date_time[0] < 1980:
        date_time = (1980, 1, 1, 0, 0, 0)
    elif date_time[0] > 2107:
        date_time = (2107, 12, 31, 23, 59, 59)
    info = zipfile.ZipInfo(name, shared.setdefault(date_time, date_time))
    attributes = (file_stat.st_mode & 0xFFFF) << 16
    info.external_attr = shared.setdefault(attributes, attributes)
    info.file_size = file_stat.st_size
    return info


@dataclass
class ZipStream:
    """The zip of the files as an iterator of chunks, made by a worker thread.

    Each iteration starts a new zip from the files on disk, so a retry never resends a
    consumed stream. `size` is the number of zip bytes the last iteration produced.
    """

    files: list[ResultFile]
    level: int = 6
    size: int = field(default=0, init=False)

    def __iter__(self) -> Iterator[bytes]:
        chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        stop = threading.Event()
        writer = ChunkWriter(chunks, stop)

        def work() -> None:
            try:
                write_zip(self.files, self.level, writer)
                writer.put(None)
            except Cancelled:
                return
            except BaseException as error:  # handed to the reader, which raises it
                try:
                    writer.put(error)
                except Cancelled:
                    return

        worker = threading.Thread(target=work, name="xltv-zip", daemon=True)
        self.size = 0
        worker.start()
        try:
            while True:
                item = chunks.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                self.size += len(item)
                yield item
        finally:
            stop.set()
            worker.join()


def new_boundary() -> str:
    return "xltv-" + secrets.token_hex(16)


def metadata_json(metadata: dict[str, str]) -> bytes:
    return json.dumps(metadata, ensure_ascii=False, sort_keys=True).encode("utf-8")


@dataclass
class MultipartBody:
    """The two-part multipart/mixed body (RFC 2046): metadata JSON, then the zip.

    The boundary is "xltv-" and 32 random hex digits, so it cannot occur in the JSON part.
    The reader finds the end of the zip part only by the boundary, and the chance that the
    zip's bytes repeat 37 random characters is negligible.
    """

    metadata: dict[str, str]
    archive: ZipStream
    boundary: str = field(default_factory=new_boundary)

    @property
    def content_type(self) -> str:
        return f"multipart/mixed; boundary={self.boundary}"

    def head(self) -> bytes:
        return (
            f"--{self.boundary}\r\nContent-Type: {JSON_PART_TYPE}\r\n\r\n".encode("ascii")
            + metadata_json(self.metadata)
            + f"\r\n--{self.boundary}\r\nContent-Type: {ZIP_PART_TYPE}\r\n\r\n".encode("ascii")
        )

    def tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode("ascii")

    def __iter__(self) -> Iterator[bytes]:
        yield self.head()
        yield from self.archive
        yield self.tail()
