"""The request on the wire and every response the server can give, on a scripted server."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    PASSWORD,
    REPO,
    USERNAME,
    Reply,
    ScriptedServer,
    clean_env,
    run_xltv,
    upload_args,
)
from mime_check import read_with_javamail
from test_cli import GITHUB_JOB_ENV

from xltv.transport import import_url, join_url

Start = Callable[..., ScriptedServer]


@pytest.mark.parametrize(
    ("server", "path", "expected"),
    [
        ("http://h/xltest/////", "/api/x", "http://h/xltest/api/x"),
        ("http://h/xltest", "api/x", "http://h/xltest/api/x"),
        ("http://h:8080/", "/api/x", "http://h:8080/api/x"),
        ("https://h", "/api/x", "https://h/api/x"),
    ],
)
def test_join_url(server: str, path: str, expected: str) -> None:
    assert join_url(server, path) == expected


def test_import_url_encodes_one_segment() -> None:
    url = import_url("https://h/ctx/", "a b/c?d#e%f")

    assert url == "https://h/ctx/api/internal/import/a%20b%2Fc%3Fd%23e%25f"


def upload(server: ScriptedServer, results: Path, *extra: str) -> tuple[int, str]:
    result = run_xltv(
        *upload_args(server.url, results, "--retries", "0", *extra),
        env=clean_env(XLTV_PASSWORD=PASSWORD),
    )
    assert PASSWORD not in result.output
    assert "Traceback" not in result.output
    return result.code, result.stderr


def test_request_is_read_by_javamail(scripted: Start, tmp_path: Path, results: Path) -> None:
    server = scripted(Reply(body=b'{"testRunId": "run-9"}'))
    env = clean_env(
        **GITHUB_JOB_ENV,
        GITHUB_WORKSPACE=str(results),
        **{
            "INPUT_SERVER-URL": server.url,
            "INPUT_USERNAME": USERNAME,
            "INPUT_PASSWORD": PASSWORD,
            "INPUT_TEST-SPECIFICATION": "unit tests",
            "INPUT_INCLUDE": "**/TEST-*.xml",
        },
    )

    result = run_xltv(env=env, script=str(REPO / "entrypoint.py"), cwd=results)

    assert result.code == 0, result.output
    assert len(server.received) == 1
    request = server.received[0]
    assert request.complete
    assert request.method == "POST"
    expected_token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_token}"
    parsed = read_with_javamail(request.body, request.headers["Content-Type"])
    assert parsed["count"] == 2
    assert parsed["complete"] is True
    first, second = parsed["parts"]
    assert first["content_type"] == "application/json; charset=utf-8"
    assert second["content_type"] == "application/zip"
    metadata = json.loads(first["text"])
    assert metadata["source"] == "github-actions"
    assert metadata["ciBuildNumber"] == "42"
    assert metadata["ciJobName"] == "octo-org/octo-repo/CI/test"
    # The plugin's own test passes the bare type and lets JavaMail find the boundary.
    assert read_with_javamail(request.body, "multipart/mixed")["count"] == 2


def test_zip_part_holds_files_byte_for_byte(scripted: Start, results: Path) -> None:
    server = scripted(Reply())

    code, _ = upload(server, results)

    assert code == 0
    body = server.received[0].body
    boundary = body.split(b"\r\n", 1)[0]
    zip_bytes = body.split(b"\r\n" + boundary)[1].split(b"\r\n\r\n", 1)[1]
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        for name in archive.namelist():
            assert archive.read(name) == (results / name).read_bytes()
    assert body.endswith(b"\r\n" + boundary + b"--\r\n")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            Reply(400, b'{"message": "Invalid metadata", "status": 400, "errorCode": "X"}'),
            "the server rejected the request (HTTP 400): Invalid metadata",
        ),
        (Reply(401, b""), f"rejected the credentials of user '{USERNAME}' (HTTP 401)"),
        (Reply(402, b""), "the server has no valid license (HTTP 402)"),
        (Reply(404, b""), "test specification 'unit tests' not found on"),
        (
            Reply(422, b'{"message": "No files matched *.trx", "status": 422}'),
            "could not process the results (HTTP 422): No files matched *.trx",
        ),
        (
            Reply(418, b"I am a teapot\nsecond line"),
            "unexpected response HTTP 418 from http://127.0.0.1",
        ),
        (Reply(304, b""), "no new results"),
    ],
)
def test_error_answers(scripted: Start, results: Path, reply: Reply, message: str) -> None:
    server = scripted(reply)

    code, stderr = upload(server, results)

    assert code == 1
    assert message in stderr
    assert len(server.received) == 1


def test_unknown_answer_shows_first_line(scripted: Start, results: Path) -> None:
    server = scripted(Reply(418, b"\n  I am a teapot\nsecond line"))

    _, stderr = upload(server, results)

    assert "I am a teapot" in stderr
    assert "second line" not in stderr


def test_html_answer_to_200(scripted: Start, results: Path) -> None:
    server = scripted(Reply(200, b"<html><body>Proxy login</body></html>"))

    code, stderr = upload(server, results)

    assert code == 1
    assert "the server responded with HTTP 200 but the body is not JSON: Proxy login;" in stderr


def test_200_without_id_is_imported(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(200, b"{}"))

    code, stderr = upload(server, results)

    assert code == 0
    assert "sent no testRunId" in stderr


def test_array_id_takes_first(scripted: Start, results: Path, tmp_path: Path) -> None:
    server = scripted(Reply(200, b'{"testRunId": ["first-id", "second-id"]}'))

    code, stderr = upload(server, results)

    assert code == 0
    assert "as test run first-id in" in stderr
    assert "second-id" not in stderr


@pytest.mark.parametrize(
    ("identifier", "segment"), [(".", "%2E"), ("..", "%2E%2E"), ("a.b", "a.b")]
)
def test_import_url_dot_segments(identifier: str, segment: str) -> None:
    assert import_url("https://h/", identifier) == f"https://h/api/internal/import/{segment}"
