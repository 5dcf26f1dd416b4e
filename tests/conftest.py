"""Shared fixtures: the real `xltv` command as a subprocess, the stand-in server, and a
scripted HTTP server for the responses the stand-in never gives."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "s3cr3t-Pa55word!"
USERNAME = "importer"

# Variables of the machine running the tests that would change what xltv detects.
CLEAN_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "PYTHONPATH")


def clean_env(**extra: str) -> dict[str, str]:
    """Return an environment without CI variables, plus the given ones."""
    env = {name: os.environ[name] for name in CLEAN_ENV_KEEP if name in os.environ}
    env.update(extra)
    return env


@dataclass
class Result:
    """The outcome of one xltv process."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_xltv(
    *arguments: str,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    script: str | None = None,
    timeout: float = 120,
) -> Result:
    """Run `python -m xltv ARGUMENTS` (or a script such as entrypoint.py) to completion."""
    command = [sys.executable, script] if script else [sys.executable, "-m", "xltv"]
    completed = subprocess.run(
        [*command, *arguments],
        env=env if env is not None else clean_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


@dataclass
class StandIn:
    """A running `xltv serve` process."""

    url: str
    data: Path
    process: subprocess.Popen[bytes]
    username: str = USERNAME
    password: str = PASSWORD

    def runs(self) -> list[dict[str, Any]]:
        """Return the stored runs, oldest first: id, metadata, request, files."""
        runs_folder = self.data / "runs"
        if not runs_folder.is_dir():
            return []
        folders = sorted(runs_folder.iterdir(), key=lambda folder: folder.stat().st_mtime_ns)
        runs = []
        for folder in folders:
            files_folder = folder / "files"
            runs.append(
                {
                    "id": folder.name,
                    "metadata": json.loads((folder / "metadata.json").read_text()),
                    "request": json.loads((folder / "request.json").read_text()),
                    "files": {
                        path.relative_to(files_folder).as_posix(): path.read_bytes()
                        for path in sorted(files_folder.rglob("*"))
                        if path.is_file()
                    },
                }
            )
        return runs


def start_stand_in(
    folder: Path, *extra: str, specifications: tuple[str, ...] = ("unit tests",)
) -> StandIn:
    port_file = folder / "port"
    data = folder / "data"
    command = [sys.executable, "-m", "xltv", "serve", "--port", "0", "--port-file", str(port_file)]
    command += ["--data", str(data), "--username", USERNAME]
    for specification in specifications:
        command += ["--test-specification", specification]
    process = subprocess.Popen(
        [*command, *extra],
        env=clean_env(XLTV_SERVE_PASSWORD=PASSWORD),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("xltv serve did not start")
        time.sleep(0.05)
    port = int(port_file.read_text())
    return StandIn(url=f"http://127.0.0.1:{port}", data=data, process=process)


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[StandIn]:
    """A stand-in server with the test specification `unit tests`."""
    folder = tmp_path / "server"
    folder.mkdir()
    server = start_stand_in(folder)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A workspace with two JUnit result files and one file no pattern should take."""
    root = tmp_path / "workspace"
    (root / "build" / "test-results").mkdir(parents=True)
    (root / "build" / "test-results" / "TEST-app.AppTest.xml").write_text(
        '<?xml version="1.0"?>\n<testsuite name="app.AppTest" tests="1"><testcase '
        'name="works"/></testsuite>\n'
    )
    (root / "build" / "test-results" / "TEST-app.OtherTest.xml").write_text(
        '<?xml version="1.0"?>\n<testsuite name="app.OtherTest" tests="1"><testcase '
        'name="fails"><failure message="no"/></testcase></testsuite>\n'
    )
    (root / "README.md").write_text("not a result\n")
    return root


def upload_env(server: StandIn | str, **extra: str) -> dict[str, str]:
    """An environment with the password variable set for the given server."""
    return clean_env(XLTV_PASSWORD=PASSWORD, **extra)


def upload_args(url: str, root: Path, *extra: str) -> list[str]:
    return [
        "upload",
        "--server-url",
        url,
        "--username",
        USERNAME,
        "--test-specification",
        "unit tests",
        "--root",
        str(root),
        "--include",
        "**/TEST-*.xml",
        *extra,
    ]


# A scripted HTTP server, for responses and faults the stand-in never produces.


@dataclass
class Reply:
    """One scripted response. `action` "drop" closes the connection after reading headers;
    "drop-mid-body" closes it after part of the body; `delay` waits before responding."""

    status: int = 200
    body: bytes = b'{"testRunId": "run-1"}'
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "answer"
    delay: float = 0.0


@dataclass
class Received:
    """One request as the scripted server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    complete: bool


class LoopbackServer:
    """A TCP server on 127.0.0.1 that hands each connection to `handle` in a thread."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self.handle, args=(connection,), daemon=True).start()

    def handle(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()
        self.thread.join(timeout=5)


class ScriptedServer(LoopbackServer):
    """A loopback HTTP/1.1 server that responds to requests from a list of Replies, in order,
    repeating the last one, and records every request with its whole body."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.received: list[Received] = []
        super().__init__()

    def next_reply(self) -> Reply:
        index = min(len(self.received), len(self.replies) - 1)
        return self.replies[index]

    def handle(self, connection: socket.socket) -> None:
        connection.settimeout(30)
        stream = connection.makefile("rb")
        try:
            request_line = stream.readline().decode("latin-1").strip()
            if not request_line:
                return
            method, path, _ = request_line.split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                line = stream.readline().decode("latin-1")
                if line in ("\r\n", "\n", ""):
                    break
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
            reply = self.next_reply()
            lowered = {name.lower(): value for name, value in headers.items()}

            if reply.action == "drop":
                self.received.append(Received(method, path, headers, b"", False))
                return
            if reply.action == "drop-mid-body":
                stream.read(100)
                self.received.append(Received(method, path, headers, b"", False))
                return

            body, complete = read_body(stream, lowered)
            self.received.append(Received(method, path, headers, body, complete))
            if reply.delay:
                time.sleep(reply.delay)
            head = f"HTTP/1.1 {reply.status} Scripted\r\n"
            reply_headers = {"Content-Length": str(len(reply.body)), "Connection": "close"}
            reply_headers.update(reply.headers)
            for name, value in reply_headers.items():
                head += f"{name}: {value}\r\n"
            connection.sendall(head.encode("latin-1") + b"\r\n" + reply.body)
        except (OSError, ValueError):
            pass
        finally:
            stream.close()
            connection.close()


def read_body(stream: Any, headers: dict[str, str]) -> tuple[bytes, bool]:
    """Read a chunked or Content-Length body; return it and whether it was complete."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            line = stream.readline()
            if not line:
                return bytes(body), False
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                stream.readline()
                return bytes(body), True
            chunk = stream.read(size)
            stream.readline()
            body += chunk
            if len(chunk) < size:
                return bytes(body), False
    length = int(headers.get("content-length", "0"))
    body = stream.read(length)
    return body, len(body) == length


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedServer]]:
    """Start scripted servers: `scripted(Reply(...), Reply(...))`."""
    servers: list[ScriptedServer] = []

    def start(*replies: Reply) -> ScriptedServer:
        server = ScriptedServer(list(replies) or [Reply()])
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
