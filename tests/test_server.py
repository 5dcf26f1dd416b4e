"""The stand-in server parses requests strictly, so client bugs cannot pass unseen."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import pytest
import requests
from conftest import PASSWORD, USERNAME, StandIn

AUTH = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
IMPORT = "/api/internal/import/unit%20tests"


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def body_of(
    metadata: bytes = b'{"source": "test"}',
    archive: bytes | None = None,
    json_type: str = "application/json; charset=utf-8",
    zip_type: str = "application/zip",
    boundary: str = "b0undary",
) -> bytes:
    archive = zip_of({"TEST-a.xml": b"<a/>"}) if archive is None else archive
    return (
        f"--{boundary}\r\nContent-Type: {json_type}\r\n\r\n".encode()
        + metadata
        + f"\r\n--{boundary}\r\nContent-Type: {zip_type}\r\n\r\n".encode()
        + archive
        + f"\r\n--{boundary}--\r\n".encode()
    )


def post(
    server: StandIn,
    body: bytes,
    path: str = IMPORT,
    content_type: str = "multipart/mixed; boundary=b0undary",
    auth: str = AUTH,
) -> requests.Response:
    headers = {
        "Authorization": auth,
        "Accept": "application/json; charset=utf-8",
        "Content-Type": content_type,
    }
    return requests.post(server.url + path, data=body, headers=headers, timeout=30)


def test_accepts_valid_import(stand_in: StandIn) -> None:
    answer = post(stand_in, body_of())

    assert answer.status_code == 200
    assert answer.json()["testRunId"] == stand_in.runs()[0]["id"]
    assert stand_in.runs()[0]["files"] == {"TEST-a.xml": b"<a/>"}


def test_accepts_chunked_body(stand_in: StandIn) -> None:
    data = body_of()
    headers = {
        "Authorization": AUTH,
        "Accept": "application/json",
        "Content-Type": "multipart/mixed; boundary=b0undary",
    }

    answer = requests.post(
        stand_in.url + IMPORT, data=iter([data[:10], data[10:]]), headers=headers, timeout=30
    )

    assert answer.status_code == 200
    assert stand_in.runs()[0]["request"]["headers"]["Transfer-Encoding"] == "chunked"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (body_of(), "multipart/form-data; boundary=b0undary", "must be multipart/mixed"),
        (body_of(), "multipart/mixed", "has no boundary parameter"),
        (body_of(json_type="application/json"), None, "part 1 must be"),
        (body_of(zip_type="application/octet-stream"), None, "part 2 must be"),
        (body_of(metadata=b"[1]"), None, "must be a JSON object"),
        (body_of(metadata=b'{"@id": "x"}'), None, "must not start with @ or _"),
        (body_of(metadata=b"{"), None, "not UTF-8 JSON"),
        (body_of(archive=b"not a zip"), None, "not a valid zip"),
        (body_of(archive=zip_of({"../evil.xml": b"x"})), None, "is not a relative path"),
        (body_of()[:-5], None, "no closing boundary"),
        (
            body_of().replace(b"\r\n--b0undary\r\nContent-Type: application/zip", b""),
            None,
            "expected 2",
        ),
    ],
)
def test_rejects_deviations(
    stand_in: StandIn, body: bytes, content_type: str | None, message: str
) -> None:
    answer = post(stand_in, body, content_type=content_type or "multipart/mixed; boundary=b0undary")

    assert answer.status_code == 400
    assert message in answer.json()["message"]
    assert answer.json()["status"] == 400
    assert stand_in.runs() == []


def test_empty_zip_is_422(stand_in: StandIn) -> None:
    answer = post(stand_in, body_of(archive=zip_of({})))

    assert answer.status_code == 422
    assert "empty" in answer.json()["message"]


def test_wrong_credentials_401(stand_in: StandIn) -> None:
    answer = post(stand_in, body_of(), auth="Basic " + base64.b64encode(b"x:y").decode())

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_specification_404(stand_in: StandIn) -> None:
    answer = post(stand_in, body_of(), path="/api/internal/import/other")

    assert answer.status_code == 404


def test_same_content_304(stand_in: StandIn) -> None:
    first = post(stand_in, body_of())
    second = post(stand_in, body_of(metadata=b'{"source": "again"}'))

    assert first.status_code == 200
    assert second.status_code == 304
    assert len(stand_in.runs()) == 1


def test_missing_length_411(stand_in: StandIn) -> None:
    import socket

    port = int(stand_in.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(
            f"POST {IMPORT} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n"
            "Accept: application/json\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n".encode()
        )
        status_line = connection.makefile("rb").readline()

    assert status_line.startswith(b"HTTP/1.1 411")


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/api/internal/data", None),
        ("/api/v1/info", "version"),
        ("/api/internal/testspecifications/extended", "unit tests"),
    ],
)
def test_other_endpoints(stand_in: StandIn, path: str, key: str | None) -> None:
    answer = requests.get(stand_in.url + path, headers={"Authorization": AUTH}, timeout=30)
    anonymous = requests.get(stand_in.url + path, timeout=30)

    assert answer.status_code == 200
    assert anonymous.status_code == 401
    if key:
        assert key in answer.json()


def test_extended_specification_shape(stand_in: StandIn) -> None:
    answer = requests.get(
        stand_in.url + "/api/internal/testspecifications/extended",
        headers={"Authorization": AUTH},
        timeout=30,
    )

    specification = answer.json()["unit tests"]
    assert specification["id"] == "unit tests"
    assert specification["type"] == "xlt.TestSpecification"
    assert set(specification["project"]) == {"id", "title", "type"}
    assert specification["testTool"]["defaultSearchPattern"] == "**/*.xml"


def test_run_folder_layout(stand_in: StandIn, tmp_path: Path) -> None:
    post(stand_in, body_of())

    folder = next((stand_in.data / "runs").iterdir())

    assert sorted(path.name for path in folder.iterdir()) == [
        "content.sha256",
        "files",
        "metadata.json",
        "request.json",
        "results.zip",
    ]
    assert "Authorization" not in (folder / "request.json").read_text()
