"""Fault injection: the real `xltv upload` against a scripted server on loopback.

Each test asserts the exit code, the message, how many requests the server received, and
that the import the server accepted is complete and byte-identical to the files on disk.
Retry waits are kept short with max-retry-wait, which also caps the backoff.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Reply, Result, ScriptedServer, run_xltv, upload_args, upload_env
from faultkit import complete_requests, header, received_files, received_zip

NAMES = [
    "build/test-results/TEST-app.AppTest.xml",
    "build/test-results/TEST-app.OtherTest.xml",
]
IMPORT_PATH = "/api/internal/import/unit%20tests"
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

Start = Callable[..., ScriptedServer]


def upload(server: ScriptedServer | str, root: Path, tmp_path: Path, *extra: str) -> Result:
    """Run `xltv upload` with fast retries; TMPDIR is a folder the test can inspect."""
    url = server if isinstance(server, str) else server.url
    spool = tmp_path / "spool"
    spool.mkdir(exist_ok=True)
    arguments = upload_args(url, root, "--max-retry-wait", "0", *extra)
    return run_xltv(*arguments, env=upload_env(url, TMPDIR=str(spool)), timeout=60)


def assert_imported(server: ScriptedServer, root: Path, index: int = -1) -> None:
    """The request at `index` is a complete POST whose zip contains exactly the files on disk."""
    request = server.received[index]
    assert request.method == "POST"
    assert request.complete
    assert received_files(request) == {name: (root / name).read_bytes() for name in NAMES}


def test_dropped_mid_body_is_retried(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(action="drop-mid-body"), Reply())

    result = upload(server, results, tmp_path)

    assert result.code == 0, result.output
    assert "Attempt 1 of 4 failed: connection failed" in result.stderr
    assert len(server.received) == 2
    assert not server.received[0].complete
    assert_imported(server, results)


def test_503_then_200(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(503, b"busy"), Reply())

    result = upload(server, results, tmp_path)

    assert result.code == 0, result.output
    assert "Attempt 1 of 4 failed: HTTP 503" in result.stderr
    assert "test run run-1" in result.stderr
    assert len(server.received) == 2
    # Each attempt zips the files again: both bodies are whole.
    assert_imported(server, results, 0)
    assert_imported(server, results, 1)


def test_503_until_retries_run_out(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(503, b"Service Unavailable"))

    result = upload(server, results, tmp_path, "--retries", "2")

    assert result.code == 1
    assert "failed after 3 attempts: HTTP 503: Service Unavailable" in result.stderr
    assert len(server.received) == 3


def test_429_retry_after_seconds(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(429, b"slow down", {"Retry-After": "1"}), Reply())

    result = upload(server, results, tmp_path, "--max-retry-wait", "5")

    assert result.code == 0, result.output
    assert "Attempt 1 of 4 failed: HTTP 429: slow down; retrying in 1.0 s" in result.stderr
    assert len(server.received) == 2
    assert_imported(server, results)


def test_429_retry_after_http_date(scripted: Start, results: Path, tmp_path: Path) -> None:
    soon = email.utils.formatdate(time.time() + 2, usegmt=True)
    server = scripted(Reply(429, b"slow down", {"Retry-After": soon}), Reply())

    result = upload(server, results, tmp_path, "--max-retry-wait", "5")

    assert result.code == 0, result.output
    assert "Attempt 1 of 4 failed: HTTP 429" in result.stderr
    assert len(server.received) == 2
    assert_imported(server, results)


def test_retry_after_date_beyond_max(scripted: Start, results: Path, tmp_path: Path) -> None:
    # A date two hours ahead can only be read as such: the backoff is at most 5 s here.
    later = email.utils.formatdate(time.time() + 7200, usegmt=True)
    server = scripted(Reply(503, b"maintenance", {"Retry-After": later}), Reply())

    result = upload(server, results, tmp_path, "--max-retry-wait", "5")

    assert result.code == 1
    assert "the server asked to retry after 7" in result.stderr
    assert "longer than max-retry-wait (5 s)" in result.stderr
    assert len(server.received) == 1


def test_retry_after_beyond_max_fails(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(429, b"", {"Retry-After": "3600"}), Reply())

    result = upload(server, results, tmp_path, "--max-retry-wait", "5")

    assert result.code == 1
    assert (
        "the server asked to retry after 3600 s (HTTP 429), longer than max-retry-wait (5 s)"
        in result.stderr
    )
    assert len(server.received) == 1


def test_502_html_page_retried(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(502, HTML_502, {"Content-Type": "text/html"}), Reply())

    result = upload(server, results, tmp_path)

    assert result.code == 0, result.output
    assert "Attempt 1 of 4 failed: HTTP 502: 502 Bad Gateway;" in result.stderr
    assert len(server.received) == 2
    assert_imported(server, results)


def test_502_html_page_message(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(502, HTML_502, {"Content-Type": "text/html"}))

    result = upload(server, results, tmp_path, "--retries", "1")

    assert result.code == 1
    assert "failed after 2 attempts: HTTP 502: 502 Bad Gateway" in result.stderr
    assert "Traceback" not in result.output
    assert "<html>" not in result.output
    assert len(server.received) == 2


def test_200_html_page_not_json(scripted: Start, results: Path, tmp_path: Path) -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>Proxy login</title></head><body>x</body></html>"
    server = scripted(Reply(200, page, {"Content-Type": "text/html"}))

    result = upload(server, results, tmp_path)

    assert result.code == 1
    assert "responded with HTTP 200 but the body is not JSON: Proxy login" in result.stderr
    assert "Traceback" not in result.output
    assert "JSONDecodeError" not in result.output
    assert len(server.received) == 1


@pytest.mark.parametrize("status", [400, 401, 402, 404, 422])
def test_client_errors_not_retried(
    scripted: Start, results: Path, tmp_path: Path, status: int
) -> None:
    server = scripted(Reply(status, b'{"message": "no such thing"}'))

    result = upload(server, results, tmp_path)

    assert result.code == 1
    assert f"HTTP {status}" in result.stderr
    assert "Attempt" not in result.stderr
    assert len(server.received) == 1


@pytest.mark.parametrize("status", [307, 308])
def test_redirect_resends_whole_body(
    scripted: Start, results: Path, tmp_path: Path, status: int
) -> None:
    server = scripted(Reply(status, b"", {"Location": "/xltv" + IMPORT_PATH}), Reply())

    result = upload(server, results, tmp_path)

    assert result.code == 0, result.output
    assert f"Redirected to {server.url}/xltv{IMPORT_PATH}" in result.stderr
    assert [request.path for request in server.received] == [IMPORT_PATH, "/xltv" + IMPORT_PATH]
    assert [request.method for request in server.received] == ["POST", "POST"]
    assert header(server.received[1], "Authorization") is not None
    assert_imported(server, results, 0)
    assert_imported(server, results, 1)


@pytest.mark.parametrize(("status", "host"), [(307, "localhost"), (308, "[::1]")])
def test_redirect_to_other_host_fails(
    scripted: Start, results: Path, tmp_path: Path, status: int, host: str
) -> None:
    server = scripted(Reply(status, b""), Reply())
    # The other host is this same server by another name, so a request sent there would
    # show up in server.received.
    location = f"http://{host}:{server.port}{IMPORT_PATH}"
    server.replies[0] = Reply(status, b"", {"Location": location})

    result = upload(server, results, tmp_path)

    assert result.code == 1
    assert f"from 127.0.0.1:{server.port} to another host" in result.stderr
    assert f"{host}:{server.port}" in result.stderr
    assert "credentials are not sent there" in result.stderr
    assert len(server.received) == 1


@pytest.mark.parametrize("status", [301, 302, 303])
def test_permanent_redirect_fails(
    scripted: Start, results: Path, tmp_path: Path, status: int
) -> None:
    server = scripted(Reply(status, b""), Reply())
    location = f"https://127.0.0.1:{server.port}{IMPORT_PATH}"
    server.replies[0] = Reply(status, b"", {"Location": location})

    result = upload(server, results, tmp_path)

    assert result.code == 1
    assert f"redirected the upload (HTTP {status})" in result.stderr
    assert f"to {location}" in result.stderr
    assert "set server-url to the new location" in result.stderr
    assert len(server.received) == 1


def test_411_resends_with_length(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(411, b"Length Required"), Reply())

    result = upload(server, results, tmp_path)

    assert result.code == 0, result.output
    assert "rejected the chunked body (HTTP 411)" in result.stderr
    assert len(server.received) == 2
    first, second = server.received
    assert header(first, "Transfer-Encoding") == "chunked"
    assert header(second, "Transfer-Encoding") is None
    assert header(second, "Content-Length") == str(len(second.body))
    assert_imported(server, results)
    assert list((tmp_path / "spool").iterdir()) == []


def test_chunked_false_from_start(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply())

    result = upload(server, results, tmp_path, "--chunked", "false")

    assert result.code == 0, result.output
    assert len(server.received) == 1
    request = server.received[0]
    assert header(request, "Transfer-Encoding") is None
    assert header(request, "Content-Length") == str(len(request.body))
    assert_imported(server, results)
    assert list((tmp_path / "spool").iterdir()) == []


def test_413_not_retried(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(413, b"<html><title>413 Request Entity Too Large</title></html>"))

    result = upload(server, results, tmp_path)

    assert result.code == 1
    zip_size = received_zip(server.received[0]).fp.getbuffer().nbytes  # type: ignore[union-attr]
    assert "too large for the server (HTTP 413)" in result.stderr
    assert "a proxy in front of the server may limit the body size" in result.stderr
    assert f"the zip was {zip_size} bytes" in result.stderr
    assert len(server.received) == 1


def test_slow_server_retried(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(delay=5), Reply())

    result = upload(server, results, tmp_path, "--read-timeout", "0.5")

    assert result.code == 0, result.output
    assert "Attempt 1 of 4 failed: timed out (ReadTimeout)" in result.stderr
    assert len(server.received) == 2
    assert_imported(server, results)


def test_slow_server_fails(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(delay=5))

    result = upload(server, results, tmp_path, "--read-timeout", "0.3", "--retries", "1")

    assert result.code == 1
    assert "failed after 2 attempts: timed out (ReadTimeout)" in result.stderr
    assert len(server.received) == 2


def test_total_timeout(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(delay=10))

    result = upload(server, results, tmp_path, "--read-timeout", "60", "--timeout", "1")

    assert result.code == 1
    assert "the next retry would pass the timeout of 1 s" in result.stderr
    assert len(server.received) == 1


def test_no_server_listening(results: Path, tmp_path: Path) -> None:
    from faultkit import free_port

    url = f"http://127.0.0.1:{free_port()}"

    result = upload(url, results, tmp_path, "--retries", "2")

    assert result.code == 1
    assert "Attempt 1 of 3 failed: connection failed" in result.stderr
    assert "Attempt 2 of 3 failed: connection failed" in result.stderr
    assert "failed after 3 attempts: connection failed" in result.stderr
    assert "Traceback" not in result.output


def test_imported_once_with_complete_zip(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply())

    result = upload(server, results, tmp_path)

    assert result.code == 0, result.output
    assert len(complete_requests(server)) == 1
    assert_imported(server, results)


def test_answer_cut_off_is_retried(scripted: Start, results: Path, tmp_path: Path) -> None:
    cut = Reply(200, b'{"testRunId": "ru', {"Content-Length": "200"})
    server = scripted(cut, Reply())

    result = upload(server, results, tmp_path)

    assert result.code == 0, result.output
    assert "Attempt 1 of 4 failed: the response was cut off" in result.stderr
    assert "Traceback" not in result.output
    assert len(server.received) == 2
    assert_imported(server, results)
