"""Result files as builds leave them: odd times, odd names, odd content, files that change
while the upload runs, links out of the workspace, and files over 4 GiB."""

from __future__ import annotations

import os
import re
import socket
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import (
    PASSWORD,
    USERNAME,
    Received,
    Reply,
    Result,
    ScriptedServer,
    clean_env,
    run_xltv,
    upload_args,
    upload_env,
)
from faultkit import complete_requests, received_files, received_zip

Start = Callable[..., ScriptedServer]
RESULTS = Path("build/test-results")
APP = "build/test-results/TEST-app.AppTest.xml"
OTHER = "build/test-results/TEST-app.OtherTest.xml"


def upload(server: ScriptedServer, root: Path, *extra: str, **env: str) -> Result:
    arguments = upload_args(server.url, root, "--max-retry-wait", "0", *extra)
    return run_xltv(*arguments, env=upload_env(server.url, **env), timeout=60)


def only_request(server: ScriptedServer) -> Received:
    assert len(server.received) == 1
    return server.received[0]


# Modification times outside the zip format's range (1980 to 2107).


def test_mtime_before_1980(scripted: Start, results: Path) -> None:
    os.utime(results / APP, (0, 0))
    server = scripted(Reply())

    result = upload(server, results)

    assert result.code == 0, result.output
    info = received_zip(only_request(server)).getinfo(APP)
    assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_mtime_after_2107(scripted: Start, results: Path) -> None:
    year_2200 = 7258118400
    os.utime(results / APP, (year_2200, year_2200))
    server = scripted(Reply())

    result = upload(server, results)

    assert result.code == 0, result.output
    info = received_zip(only_request(server)).getinfo(APP)
    # The zip format stores seconds in steps of two, so 59 is read back as 58.
    assert info.date_time == (2107, 12, 31, 23, 59, 58)


# Names.


def test_name_not_utf8(scripted: Start, results: Path) -> None:
    folder = os.fsencode(results / RESULTS)
    with open(os.path.join(folder, b"TEST-caf\xe9.xml"), "wb") as file:
        file.write(b"<testsuite/>")
    server = scripted(Reply())

    result = upload(server, results)

    assert result.code == 0, result.output
    stored = "build/test-results/TEST-caf\ufffd.xml"
    assert "File name 'build/test-results/TEST-caf\\xe9.xml' is not valid UTF-8" in result.stderr
    assert f"stored as {stored!r}" in result.stderr
    files = received_files(only_request(server))
    assert files[stored] == b"<testsuite/>"
    assert len(files) == 3


def test_names_not_utf8_collide(scripted: Start, results: Path) -> None:
    folder = os.fsencode(results / RESULTS)
    for name in (b"TEST-\xe9.xml", b"TEST-\xe8.xml"):
        with open(os.path.join(folder, name), "wb") as file:
            file.write(name)
    server = scripted(Reply())

    result = upload(server, results)

    assert result.code == 0, result.output
    files = received_files(only_request(server))
    stored = "build/test-results/TEST-\ufffd.xml"
    assert files[stored] == b"TEST-\xe8.xml"
    assert (
        "Left out build/test-results/TEST-\\xe9.xml: its name stored as "
        f"{stored!r} is taken by build/test-results/TEST-\\xe8.xml"
    ) in result.stderr


def test_names_kept_as_they_are(scripted: Start, results: Path) -> None:
    names = [
        "TEST-suite:case.xml",
        "TEST-a b;c=d,e'f.xml",
        'TEST-"quoted"|pipe.xml',
        "TEST-what?*.xml",
        "TEST-back\\slash.xml",
        "TEST-\u00fcnic\u00f8de-\u6e2c\u8a66.xml",
    ]
    for name in names:
        (results / RESULTS / name).write_bytes(name.encode())
    server = scripted(Reply())

    result = upload(server, results)

    assert result.code == 0, result.output
    files = received_files(only_request(server))
    for name in names:
        assert files[f"build/test-results/{name}"] == name.encode()


# Content: byte for byte, never parsed.

CONTENTS = {
    "TEST-empty.xml": b"",
    "TEST-bom8.xml": b"\xef\xbb\xbf<?xml version='1.0'?><testsuite/>",
    "TEST-bom16.xml": "\ufeff<testsuite/>".encode("utf-16-le"),
    "TEST-invalid.xml": b"<testsuite><testcase></testsuite>&&&",
    "TEST-truncated.xml": b'<?xml version="1.0"?>\n<testsuite name="x" tests="3"><testca',
    "TEST-crlf.xml": b"<testsuite>\r\n</testsuite>\r\n",
    "TEST-binary.xml": bytes(range(256)) * 64,
}


@pytest.mark.parametrize("chunked", ["true", "false"])
def test_content_sent_byte_for_byte(scripted: Start, results: Path, chunked: str) -> None:
    for name, content in CONTENTS.items():
        (results / RESULTS / name).write_bytes(content)
    server = scripted(Reply())

    result = upload(server, results, "--chunked", chunked)

    assert result.code == 0, result.output
    files = received_files(only_request(server))
    for name, content in CONTENTS.items():
        assert files[f"build/test-results/{name}"] == content
    assert len(files) == len(CONTENTS) + 2


# A file that changes between listing and zipping. A hook script collects, then breaks
# the last file, then lets the upload zip and send.

BREAK_HOOK = """
import os, shutil, sys
import xltv.upload

collect = xltv.upload.collect


def collect_then_break(*args, **kwargs):
    files = collect(*args, **kwargs)
    path = [result.path for result in files if result.name == os.environ["BREAK_NAME"]][0]
    mode = os.environ["BREAK_MODE"]
    os.remove(path)
    if mode == "folder":
        os.mkdir(path)
    elif mode == "fifo":
        os.mkfifo(path)
    elif mode == "link-outside":
        os.symlink("/etc/passwd", path)
    return files


xltv.upload.collect = collect_then_break
from xltv.cli import main

sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("chunked", ["true", "false"])
@pytest.mark.parametrize("name", [APP, OTHER])
@pytest.mark.parametrize("mode", ["deleted", "folder", "fifo", "link-outside"])
def test_file_broken_before_zipping(
    scripted: Start, results: Path, tmp_path: Path, mode: str, name: str, chunked: str
) -> None:
    (results / RESULTS / "TEST-padding.xml").write_bytes(os.urandom(3 * 1024 * 1024))
    hook = tmp_path / "break_hook.py"
    hook.write_text(BREAK_HOOK)
    server = scripted(Reply())
    arguments = upload_args(server.url, results, "--chunked", chunked, "--max-retry-wait", "0")
    env = upload_env(server.url, BREAK_MODE=mode, BREAK_NAME=name, PYTHONPATH=os.getcwd())

    result = run_xltv(*arguments, env=env, script=str(hook), timeout=30)

    assert result.code == 1, result.output
    assert f"cannot read {name}" in result.stderr
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.output
    assert complete_requests(server) == []
    if chunked == "false":
        assert server.received == []


# Files the tool writes are never collected, even inside the root.


def dry_run_body(output: Path, stderr: str) -> Received:
    content_type = re.search(r"Content-Type: (multipart/mixed; boundary=\S+)", stderr)
    assert content_type is not None, stderr
    headers = {"Content-Type": content_type.group(1)}
    return Received("POST", "", headers, output.read_bytes(), True)


def test_output_file_not_collected(results: Path) -> None:
    output = results / RESULTS / "TEST-body.xml"
    dotenv = results / RESULTS / "TEST-dotenv.xml"
    arguments = upload_args("https://127.0.0.1:1", results, "--dry-run", "--output", str(output))
    env = clean_env(
        XLTV_DOTENV_FILE=str(dotenv),
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(results / RESULTS / "TEST-outputs.xml"),
        GITHUB_STEP_SUMMARY=str(results / RESULTS / "TEST-summary.xml"),
    )

    # The second run finds the files the first one wrote.
    for _ in range(2):
        result = run_xltv(*arguments, env=env)
        assert result.code == 0, result.output

    assert output.exists()
    assert dotenv.exists()
    files = received_files(dry_run_body(output, result.stderr))
    assert sorted(files) == [APP, OTHER]


def test_spool_file_not_collected(scripted: Start, results: Path) -> None:
    spool = results / "tmp"
    spool.mkdir()
    (results / ".xltestview.yml").write_text(
        "uploads:\n"
        "  - test-specification: first\n"
        "    include: '**'\n"
        "  - test-specification: second\n"
        "    include: '**'\n"
        "    exclude: '.xltestview.yml'\n"
    )
    server = scripted(Reply(), Reply(body=b'{"testRunId": "run-2"}'))
    arguments = ["upload", "--server-url", server.url, "--username", USERNAME]
    arguments += ["--root", str(results), "--chunked", "false"]

    result = run_xltv(*arguments, env=clean_env(XLTV_PASSWORD=PASSWORD, TMPDIR=str(spool)))

    assert result.code == 0, result.output
    assert len(server.received) == 2
    second = received_files(server.received[1])
    assert sorted(second) == ["README.md", APP, OTHER]
    assert list(spool.iterdir()) == []


# Symbolic links.


def test_links_out_of_root_skipped(scripted: Start, results: Path, tmp_path: Path) -> None:
    outside = tmp_path / "TEST-outside.xml"
    outside.write_text("<secret/>")
    folder = results / RESULTS
    (folder / "TEST-passwd.xml").symlink_to("/etc/passwd")
    (folder / "TEST-relative.xml").symlink_to("../../../TEST-outside.xml")
    (folder / "up").symlink_to("../../../")
    (folder / "TEST-alias.xml").symlink_to("TEST-app.AppTest.xml")
    (folder / "TEST-dangling.xml").symlink_to("TEST-missing.xml")
    server = scripted(Reply())

    result = upload(server, results)

    assert result.code == 0, result.output
    assert "Skipped build/test-results/TEST-passwd.xml: a link to /etc/passwd" in result.stderr
    assert f"Skipped build/test-results/TEST-relative.xml: a link to {outside}" in result.stderr
    assert "Skipped build/test-results/up: a link to" in result.stderr
    assert "outside the root" in result.stderr
    assert "Skipped build/test-results/TEST-dangling.xml: a link whose target" in result.stderr
    files = received_files(only_request(server))
    # TEST-alias.xml is the same file as APP, which is collected once, under its real name.
    assert sorted(files) == [APP, OTHER]
    assert files[APP] == (results / APP).read_bytes()


def test_link_inside_root_followed(scripted: Start, results: Path) -> None:
    (results / "out" / "junit").mkdir(parents=True)
    (results / "out" / "junit" / "report.xml").write_text("<testsuite name='linked'/>")
    (results / RESULTS / "TEST-linked.xml").symlink_to("../../out/junit/report.xml")
    (results / "linked-folder").symlink_to("out/junit")
    (results / "out" / "junit" / "TEST-in-folder.xml").write_text("<testsuite/>")
    server = scripted(Reply())

    # The real folder is excluded, so its files come only through the links.
    result = upload(server, results, "--exclude", "out/**")

    assert result.code == 0, result.output
    files = received_files(only_request(server))
    assert sorted(files) == [
        APP,
        OTHER,
        "build/test-results/TEST-linked.xml",
        "linked-folder/TEST-in-folder.xml",
    ]
    assert files["build/test-results/TEST-linked.xml"] == b"<testsuite name='linked'/>"


def test_link_loops_end(scripted: Start, results: Path) -> None:
    (results / "build" / "loop").symlink_to("..")
    (results / "build" / "test-results" / "again").symlink_to("../test-results")
    (results / "a").mkdir()
    (results / "a" / "b").symlink_to("../c")
    (results / "c").mkdir()
    (results / "c" / "d").symlink_to("../a")
    (results / "c" / "TEST-c.xml").write_text("<c/>")
    (results / "self").symlink_to("self")
    server = scripted(Reply())

    result = upload(server, results)

    assert result.code == 0, result.output
    assert "Skipped build/loop: a link to a folder already collected" in result.stderr
    assert "Skipped self: a link whose target does not exist" in result.stderr
    files = received_files(only_request(server))
    assert files[APP] == (results / APP).read_bytes()
    assert "c/TEST-c.xml" in files
    # Files reached through links again are collected once, under their real names.
    assert "build/test-results/again/TEST-app.AppTest.xml" not in files
    assert not any("again/again" in name or "loop/" in name for name in files)
    # No stored path passes through the same folder name twice.
    assert all(len(set(name.split("/"))) == len(name.split("/")) for name in files)


# ZIP64: a sparse file over 4 GiB, streamed to a server that discards the body and checks
# the zip's end records.

GIB = 1024**3


class DiscardingServer:
    """Accept one chunked upload; keep its start and end, count and check the rest."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.head = b""
        self.tail = b""
        self.total = 0
        self.headers: dict[str, str] = {}
        self.complete = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.listener.accept()
        stream = connection.makefile("rb")
        stream.readline()
        while True:
            line = stream.readline().decode("latin-1")
            if line in ("\r\n", ""):
                break
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        assert self.headers.get("transfer-encoding") == "chunked"
        while True:
            size = int(stream.readline().split(b";")[0].strip(), 16)
            if size == 0:
                stream.readline()
                self.complete = True
                break
            chunk = stream.read(size)
            stream.readline()
            self.keep(chunk)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\nConnection: close\r\n\r\n"
            b'{"testRunId": "big-1"}'
        )
        stream.close()
        connection.close()

    def keep(self, chunk: bytes) -> None:
        if len(self.head) < 65536:
            self.head += chunk[: 65536 - len(self.head)]
        self.tail = (self.tail + chunk)[-4 * 1024 * 1024 :]
        self.total += len(chunk)


class TailFile:
    """A read-only file of `size` bytes of which only the last bytes are known.

    Listing a zip reads only its end records and central directory, and both are in the tail.
    """

    def __init__(self, tail: bytes, size: int) -> None:
        self.tail = tail
        self.size = size
        self.position = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, count: int = -1) -> bytes:
        start = self.size - len(self.tail)
        end = self.size if count < 0 else min(self.size, self.position + count)
        if self.position < start:
            raise AssertionError(f"zipfile read offset {self.position}, before the tail")
        data = self.tail[self.position - start : end - start]
        self.position = end
        return data


def crc_of(path: Path) -> int:
    crc = 0
    with open(path, "rb") as file:
        while block := file.read(16 * 1024 * 1024):
            crc = zlib.crc32(block, crc)
    return crc


@pytest.fixture
def big_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "big"
    root.mkdir()
    big = root / "big.bin"
    with open(big, "wb") as file:
        file.write(b"first bytes")
        file.truncate(4 * GIB + 1024 * 1024)
        file.seek(-10, os.SEEK_END)
        file.write(b"last bytes")
    (root / "small.xml").write_text("<testsuite/>")
    yield root
    big.unlink()


@pytest.mark.slow
def test_zip64_over_4_gib(big_root: Path) -> None:
    server = DiscardingServer()
    big = big_root / "big.bin"
    arguments = upload_args(server.url, big_root, "--compression-level", "0")
    arguments[arguments.index("**/TEST-*.xml")] = "big.bin,small.xml"

    result = run_xltv(*arguments, env=upload_env(server.url), timeout=900)
    server.thread.join(timeout=60)

    assert result.code == 0, result.output
    assert server.complete
    closing = re.search(rb"\r\n--(xltv-[0-9a-f]+)--\r\n$", server.tail)
    assert closing is not None
    zip_start = server.head.index(b"Content-Type: application/zip\r\n\r\n") + 34
    zip_size = server.total - zip_start - len(closing.group(0))
    assert zip_size > 4 * GIB
    zip_tail = server.tail[: -len(closing.group(0))]
    assert b"PK\x06\x06" in zip_tail  # ZIP64 end of central directory record
    assert b"PK\x06\x07" in zip_tail  # ZIP64 end of central directory locator
    end_record = zip_tail[zip_tail.rindex(b"PK\x05\x06") :]
    offset_in_end_record = struct.unpack("<I", end_record[16:20])[0]
    assert offset_in_end_record == 0xFFFFFFFF

    with zipfile.ZipFile(TailFile(zip_tail, zip_size)) as archive:  # type: ignore[arg-type]
        infos = {info.filename: info for info in archive.infolist()}
    assert sorted(infos) == ["big.bin", "small.xml"]
    assert infos["big.bin"].file_size == big.stat().st_size
    assert infos["big.bin"].compress_size == big.stat().st_size
    assert crc_of(big) == infos["big.bin"].CRC
    assert infos["small.xml"].header_offset > 4 * GIB
    assert zlib.crc32(b"<testsuite/>") == infos["small.xml"].CRC
