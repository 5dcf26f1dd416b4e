"""A local stand-in for the XL TestView import API, for demos and tests. It is not XL TestView.

It serves the endpoints the client uses, checks Basic auth, parses import requests strictly
and responds 400 with the server's error JSON on any deviation from the protocol:
multipart/mixed with exactly two parts, `application/json; charset=utf-8` then
`application/zip`. Each accepted import is stored as a run folder under the data folder:

    DATA/runs/<test-run-id>/metadata.json   the metadata object received
    DATA/runs/<test-run-id>/request.json    method, path and headers, without Authorization
    DATA/runs/<test-run-id>/results.zip     the zip part, byte for byte
    DATA/runs/<test-run-id>/files/...       the zip's files

Like the real server, it responds 304 to results it already has and 422 to an empty zip.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import logging
import os
import signal
import threading
import uuid
import zipfile
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

IMPORT_PREFIX = "/api/internal/import/"
JSON_PART_TYPE = "application/json; charset=utf-8"
ZIP_PART_TYPE = "application/zip"
MAX_BODY = 8 * 1024**3


class ProtocolError(Exception):
    """The request deviates from the import protocol; the server responds with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Store:
    """The run folders, and the content keys of the runs already imported."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.runs = data / "runs"
        self.runs.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        for run in self.runs.iterdir():
            key_file = run / "content.sha256"
            if key_file.is_file():
                self.seen.add(key_file.read_text().strip())

    def add(
        self,
        test_specification: str,
        metadata: dict[str, Any],
        archive_bytes: bytes,
        archive: zipfile.ZipFile,
        request: dict[str, Any],
    ) -> str | None:
        """Store a run and return its id, or None when the same results are stored already."""
        digest = hashlib.sha256(test_specification.encode())
        for info in sorted(archive.infolist(), key=lambda item: item.filename):
            digest.update(info.filename.encode())
            digest.update(archive.read(info))
        key = digest.hexdigest()

        with self.lock:
            if key in self.seen:
                return None
            self.seen.add(key)

        run_id = str(uuid.uuid4())
        folder = self.runs / run_id
        files = folder / "files"
        files.mkdir(parents=True)
        for info in archive.infolist():
            if info.is_dir():
                continue
            target = files / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
        (folder / "results.zip").write_bytes(archive_bytes)
        document = {"testSpecification": test_specification, **request}
        (folder / "request.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
        (folder / "metadata.json").write_text(json.dumps(metadata, indent=2, ensure_ascii=False))
        (folder / "content.sha256").write_text(key + "\n")
        return run_id


def split_parts(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart body (RFC 2046) into (headers, content) pairs, strictly."""
    delimiter = b"--" + boundary.encode("latin-1")
    if not body.startswith(delimiter + b"\r\n"):
        raise ProtocolError(400, "multipart body does not start with the boundary line")
    closing = b"\r\n" + delimiter + b"--"
    end = body.rfind(closing)
    if end < 0:
        raise ProtocolError(400, "multipart body has no closing boundary")
    if body[end + len(closing) :].strip(b"\r\n") != b"":
        raise ProtocolError(400, "multipart body has data after the closing boundary")

    inner = body[len(delimiter) + 2 : end]
    chunks = inner.split(b"\r\n" + delimiter + b"\r\n")
    parts = []
    for chunk in chunks:
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise ProtocolError(400, "a multipart part has no blank line after its headers")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon:
                raise ProtocolError(400, f"invalid part header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


def boundary_of(content_type: str) -> str:
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() != "multipart/mixed":
        raise ProtocolError(400, f"Content-Type must be multipart/mixed, not {content_type!r}")
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return value.strip('"')
    raise ProtocolError(400, "Content-Type multipart/mixed has no boundary parameter")


def parse_import(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes, zipfile.ZipFile]:
    """Check an import body and return the metadata, the zip bytes and the open zip."""
    parts = split_parts(body, boundary_of(content_type))
    if len(parts) != 2:
        raise ProtocolError(400, f"expected 2 multipart parts, got {len(parts)}")
    (json_headers, json_bytes), (zip_headers, zip_bytes) = parts
    if json_headers.get("content-type") != JSON_PART_TYPE:
        raise ProtocolError(
            400, f"part 1 must be {JSON_PART_TYPE!r}, got {json_headers.get('content-type')!r}"
        )
    if zip_headers.get("content-type") != ZIP_PART_TYPE:
        raise ProtocolError(
            400, f"part 2 must be {ZIP_PART_TYPE!r}, got {zip_headers.get('content-type')!r}"
        )

    try:
        metadata = json.loads(json_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(400, f"metadata part is not UTF-8 JSON: {error}") from None
    if not isinstance(metadata, dict):
        raise ProtocolError(400, "metadata part must be a JSON object")
    for key, value in metadata.items():
        if key.startswith(("@", "_")):
            raise ProtocolError(400, f"metadata key {key!r} must not start with @ or _")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ProtocolError(400, f"metadata value of {key!r} must be a string")

    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
        broken = archive.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise ProtocolError(400, f"zip part is not a valid zip: {error}") from None
    if broken is not None:
        raise ProtocolError(400, f"zip entry {broken!r} fails its CRC check")
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
            raise ProtocolError(400, f"zip entry name {info.filename!r} is not a relative path")
    if not [info for info in archive.infolist() if not info.is_dir()]:
        raise ProtocolError(422, "No test results found: the zip is empty")
    return metadata, zip_bytes, archive


class Handler(BaseHTTPRequestHandler):
    """One request to the stand-in server."""

    server: StandInServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def send_json(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="XL TestView stand-in"')
        self.end_headers()
        self.wfile.write(body)

    def send_error_json(self, status: int, message: str) -> None:
        if status == 304:
            self.send_response(304)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_json(
            status, {"message": message, "status": status, "errorCode": HTTPStatus(status).phrase}
        )

    def api_path(self) -> str | None:
        path = urlsplit(self.path).path
        context = self.server.context_path
        if context:
            if not path.startswith(context + "/"):
                return None
            path = path[len(context) :]
        return path

    def authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme != "Basic":
            return False
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        return decoded == f"{self.server.username}:{self.server.password}"

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            raise ProtocolError(411, "a body needs Content-Length or chunked transfer encoding")
        if not length.isdigit() or int(length) > MAX_BODY:
            raise ProtocolError(400, f"invalid Content-Length {length!r}")
        return self.rfile.read(int(length))

    def read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(400, f"invalid chunk size line {line!r}") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise ProtocolError(413, "body too large")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.read(2) != b"\r\n":
                raise ProtocolError(400, "chunked body ended early")
            body += chunk

    def do_GET(self) -> None:
        path = self.api_path()
        if path is None:
            self.send_error_json(404, f"not found: {self.path}")
            return
        if not self.authorized():
            self.send_error_json(401, "Authentication required")
            return
        if path == "/api/internal/data":
            self.send_json(200, {})
        elif path == "/api/v1/info":
            self.send_json(
                200, {"name": "xltv stand-in server", "vendor": "xltv", "version": "1.4.4"}
            )
        elif path == "/api/internal/testspecifications/extended":
            self.send_json(200, self.server.extended_specifications())
        else:
            self.send_error_json(404, f"not found: {self.path}")

    def do_POST(self) -> None:
        try:
            self.handle_import()
        except ProtocolError as error:
            log.warning("Rejected %s with %d: %s", self.path, error.status, error)
            self.close_connection = True
            self.send_error_json(error.status, str(error))

    def handle_import(self) -> None:
        path = self.api_path()
        test_specification = None
        if path is not None and path.startswith(IMPORT_PREFIX):
            test_specification = unquote(path[len(IMPORT_PREFIX) :])
            if "/" in path[len(IMPORT_PREFIX) :]:
                test_specification = None
        if test_specification is None:
            raise ProtocolError(404, f"not found: {self.path}")
        if not self.authorized():
            raise ProtocolError(401, "Authentication required")
        if test_specification not in self.server.test_specifications:
            raise ProtocolError(404, f"unknown test specification {test_specification!r}")

        accept = self.headers.get("Accept", "")
        if "application/json" not in accept:
            raise ProtocolError(400, f"Accept must name application/json, got {accept!r}")
        body = self.read_body()
        metadata, zip_bytes, archive = parse_import(self.headers.get("Content-Type", ""), body)

        request = {
            "method": "POST",
            "path": self.path,
            "headers": {
                name: value
                for name, value in self.headers.items()
                if name.lower() != "authorization"
            },
            "bodyBytes": len(body),
        }
        run_id = self.server.store.add(test_specification, metadata, zip_bytes, archive, request)
        if run_id is None:
            log.info("No new results for %r; responded 304", test_specification)
            self.send_error_json(304, "")
            return
        log.info(
            "Imported run %s into %r (%d entries)",
            run_id,
            test_specification,
            len(archive.infolist()),
        )
        answer: Any = [run_id] if self.server.run_id_format == "array" else run_id
        self.send_json(200, {"testRunId": answer})


class StandInServer(ThreadingHTTPServer):
    """The HTTP server with its settings and store."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        data: Path,
        test_specifications: list[str],
        username: str = "admin",
        password: str = "admin",
        context_path: str = "",
        run_id_format: str = "string",
    ) -> None:
        super().__init__(address, Handler)
        self.store = Store(data)
        self.test_specifications = set(test_specifications)
        self.username = username
        self.password = password
        self.context_path = "/" + context_path.strip("/") if context_path.strip("/") else ""
        self.run_id_format = run_id_format

    def extended_specifications(self) -> dict[str, Any]:
        project = {"id": "stand-in-project", "title": "Stand-in project", "type": "xlt.Project"}
        return {
            spec_id: {
                "id": spec_id,
                "title": spec_id,
                "type": "xlt.TestSpecification",
                "project": project,
                "qualification": None,
                "testTool": {
                    "name": "xlt.JUnit",
                    "category": "functional",
                    "defaultSearchPattern": "**/*.xml",
                },
            }
            for spec_id in sorted(self.test_specifications)
        }


def serve(arguments: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the stand-in server until SIGINT or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="xltv serve: %(message)s")
    specifications = arguments.test_specification or ["demo-unit-tests"]
    try:
        server = StandInServer(
            (arguments.host, arguments.port),
            Path(arguments.data),
            specifications,
            username=arguments.username,
            password=environ.get("XLTV_SERVE_PASSWORD") or "admin",
            context_path=arguments.context_path,
            run_id_format=arguments.run_id_format,
        )
    except OSError as error:
        where = f"{arguments.host}:{arguments.port} or data folder {arguments.data}"
        log.error("cannot start on %s: %s; choose another port or folder", where, error)
        return 2
    host, port = str(server.server_address[0]), int(server.server_address[1])
    if arguments.port_file:
        temporary = arguments.port_file + ".tmp"
        Path(temporary).write_text(f"{port}\n")
        os.replace(temporary, arguments.port_file)
    shown_host = f"[{host}]" if ":" in host else host
    log.info(
        "listening on http://%s:%d%s/ (data in %s; test specifications: %s); this is a "
        "stand-in for trying pipelines, not XL TestView",
        shown_host,
        port,
        server.context_path,
        arguments.data,
        ", ".join(specifications),
    )

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    log.info("stopped")
    return 0
