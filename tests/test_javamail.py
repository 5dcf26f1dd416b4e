"""Tests of the JavaMail helper in mime_check.py on hand-made multipart bodies.

They fail, never skip, when Java or JavaMail is missing: the error names the apt-get command.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from mime_check import JavaMailParseError, JavaMailUnavailableError, read_with_javamail

BOUNDARY = "xltv-test-boundary-5f3a9c"
CONTENT_TYPE = f"multipart/mixed; boundary={BOUNDARY}"
METADATA = {"ciBuildNumber": "42", "ciJobName": "Prüfung / nightly", "source": "gitlab"}


def make_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pytest/TEST-pytest.xml", '<testsuites name="pytest tests"/>')
    return buffer.getvalue()


def make_body(json_part: bytes, zip_part: bytes) -> bytes:
    """Build a two-part multipart/mixed body (RFC 2046) with CRLF line ends."""
    delimiter = b"--" + BOUNDARY.encode("ascii")
    return b"".join(
        [
            delimiter + b"\r\n",
            b"Content-Type: application/json; charset=utf-8\r\n",
            b"\r\n",
            json_part,
            b"\r\n" + delimiter + b"\r\n",
            b"Content-Type: application/zip\r\n",
            b"\r\n",
            zip_part,
            b"\r\n" + delimiter + b"--\r\n",
        ]
    )


def test_two_parts_read_back() -> None:
    json_part = json.dumps(METADATA, ensure_ascii=False).encode("utf-8")
    zip_part = make_zip()

    result = read_with_javamail(make_body(json_part, zip_part), CONTENT_TYPE)

    assert result["count"] == 2
    assert result["complete"] is True
    assert result["preamble"] is None
    assert len(result["parts"]) == 2

    json_read, zip_read = result["parts"]
    assert json_read["content_type"] == "application/json; charset=utf-8"
    assert json_read["length"] == len(json_part)
    assert json_read["headers"] == [["Content-Type", "application/json; charset=utf-8"]]
    assert json.loads(json_read["text"]) == METADATA

    assert zip_read["content_type"] == "application/zip"
    assert zip_read["length"] == len(zip_part)
    assert zip_read["text"] is None


def test_missing_closing_boundary_incomplete() -> None:
    body = make_body(b"{}", make_zip())
    closing = b"\r\n--" + BOUNDARY.encode("ascii") + b"--\r\n"
    truncated = body.removesuffix(closing)
    assert truncated != body

    result = read_with_javamail(truncated, CONTENT_TYPE)

    assert result["complete"] is False
    assert result["count"] == 2


def test_bare_multipart_type_accepted() -> None:
    json_part = json.dumps(METADATA).encode("ascii")
    zip_part = make_zip()

    result = read_with_javamail(make_body(json_part, zip_part), "multipart/mixed")

    assert result["count"] == 2
    assert result["complete"] is True
    assert [part["content_type"] for part in result["parts"]] == [
        "application/json; charset=utf-8",
        "application/zip",
    ]
    assert [part["length"] for part in result["parts"]] == [len(json_part), len(zip_part)]


def test_wrong_boundary_rejected() -> None:
    body = make_body(b"{}", make_zip())

    with pytest.raises(JavaMailParseError, match="Missing start boundary"):
        read_with_javamail(body, "multipart/mixed; boundary=some-other-boundary")


def test_missing_java_names_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(JavaMailUnavailableError) as raised:
        read_with_javamail(b"", CONTENT_TYPE)

    assert str(raised.value) == (
        "java not found on PATH; install Java and JavaMail with: "
        "apt-get install -y libmail-java default-jdk-headless"
    )
