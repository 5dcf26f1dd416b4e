"""Helpers for the reliability tests: read what a scripted server received, and real
loopback infrastructure (an HTTPS server with a CA made here, a forwarding proxy)."""

from __future__ import annotations

import datetime
import io
import select
import socket
import ssl
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import LoopbackServer, Received, ScriptedServer


def body_parts(received: Received) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart/mixed body into (part headers, part content), in order."""
    content_type = {name.lower(): value for name, value in received.headers.items()}["content-type"]
    boundary = content_type.split("boundary=", 1)[1].strip().encode("ascii")
    delimiter = b"\r\n--" + boundary
    text = b"\r\n" + received.body
    pieces = text.split(delimiter)
    assert pieces[0] == b"", "the body must start with the first boundary"
    assert pieces[-1] == b"--\r\n", "the body must end with the closing boundary"
    parts = []
    for piece in pieces[1:-1]:
        head, _, content = piece[2:].partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("ascii").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


def received_zip(received: Received) -> zipfile.ZipFile:
    """Return the zip part of an import request, opened for reading."""
    parts = body_parts(received)
    assert [headers["content-type"] for headers, _ in parts] == [
        "application/json; charset=utf-8",
        "application/zip",
    ]
    return zipfile.ZipFile(io.BytesIO(parts[1][1]))


def received_files(received: Received) -> dict[str, bytes]:
    """Return every file of the zip part of an import request, by name."""
    with received_zip(received) as archive:
        assert archive.testzip() is None, "a zip entry has a wrong CRC"
        return {info.filename: archive.read(info) for info in archive.infolist()}


def disk_files(root: Path, names: list[str]) -> dict[str, bytes]:
    """Return the bytes of the given files under the root, by name."""
    return {name: (root / name).read_bytes() for name in names}


def complete_requests(server: ScriptedServer) -> list[Received]:
    return [request for request in server.received if request.complete]


def header(received: Received, name: str) -> str | None:
    lowered = {key.lower(): value for key, value in received.headers.items()}
    return lowered.get(name.lower())


# TLS: a CA and a server certificate for 127.0.0.1 and localhost, made by the test.


@dataclass
class Certificates:
    ca: Path
    certificate: Path
    key: Path


def make_certificates(folder: Path) -> Certificates:
    """Write a CA certificate and a server certificate it signed, valid for loopback."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xltv test CA")])
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    folder.mkdir(parents=True, exist_ok=True)
    certificates = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    certificates.ca.write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
    certificates.certificate.write_bytes(
        server_certificate.public_bytes(serialization.Encoding.PEM)
    )
    certificates.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificates


class TlsScriptedServer(ScriptedServer):
    """The scripted server behind TLS; `handshakes_failed` counts rejected handshakes."""

    def __init__(self, certificates: Certificates, *args: Any) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certificates.certificate, certificates.key)
        self.handshakes_failed = 0
        super().__init__(*args)
        self.url = f"https://127.0.0.1:{self.port}"

    def handle(self, connection: socket.socket) -> None:
        connection.settimeout(30)
        try:
            wrapped = self.context.wrap_socket(connection, server_side=True)
        except (OSError, ssl.SSLError):
            self.handshakes_failed += 1
            connection.close()
            return
        super().handle(wrapped)


# A forwarding HTTP proxy: absolute-URI requests for http:// and CONNECT for https://.


class ForwardingProxy(LoopbackServer):
    """A loopback proxy that records each request line and relays bytes both ways.

    It connects only to loopback targets, so a mistake in a test cannot send traffic
    anywhere else.
    """

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        super().__init__()

    def handle(self, client: socket.socket) -> None:
        client.settimeout(30)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                data = client.recv(65536)
                if not data:
                    return
                head += data
            head, _, rest = head.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            self.request_lines.append(f"{method} {target}")

            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                upstream = self.open_upstream(host, int(port))
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
            else:
                scheme, _, remainder = target.partition("://")
                assert scheme == "http", f"an origin-form request reached the proxy: {target}"
                authority, slash, path = remainder.partition("/")
                host, _, port = authority.rpartition(":")
                upstream = self.open_upstream(host, int(port or 80))
                headers = [
                    line
                    for line in lines[1:]
                    if not line.lower().startswith(("proxy-connection:", "connection:"))
                ]
                forwarded = [f"{method} {slash}{path} {version}", *headers, "Connection: close"]
                upstream.sendall("\r\n".join(forwarded).encode("latin-1") + b"\r\n\r\n" + rest)
            relay(client, upstream)
        except (OSError, ValueError):
            pass
        finally:
            client.close()

    @staticmethod
    def open_upstream(host: str, port: int) -> socket.socket:
        host = host.strip("[]")
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the test proxy only connects to loopback, not {host}")
        return socket.create_connection((host, port), timeout=30)


def relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until the upstream closes."""
    sockets = [client, upstream]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 30)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    if source is upstream:
                        return
                    upstream.shutdown(socket.SHUT_WR)
                    sockets = [upstream]
                    break
                (upstream if source is client else client).sendall(data)
    finally:
        upstream.close()


def free_port() -> int:
    """Return a loopback port that nothing listens on (closed right after binding)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port: int = listener.getsockname()[1]
    return port


def scrub_proxy_variables(env: dict[str, str]) -> dict[str, str]:
    for name in list(env):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            del env[name]
    return env
