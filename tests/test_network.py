"""Proxies and TLS with real servers on loopback: a forwarding proxy written here, and an
HTTPS server whose certificate is signed by a CA this test makes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Reply, Result, run_xltv, upload_args, upload_env
from faultkit import (
    Certificates,
    ForwardingProxy,
    TlsScriptedServer,
    free_port,
    make_certificates,
    received_files,
)

NAMES = [
    "build/test-results/TEST-app.AppTest.xml",
    "build/test-results/TEST-app.OtherTest.xml",
]
IMPORT_PATH = "/api/internal/import/unit%20tests"


@pytest.fixture
def proxy() -> Iterator[ForwardingProxy]:
    server = ForwardingProxy()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def other_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A second CA, which did not sign the server's certificate."""
    return make_certificates(tmp_path_factory.mktemp("other-tls"))


@pytest.fixture
def https_server(certificates: Certificates) -> Iterator[TlsScriptedServer]:
    server = TlsScriptedServer(certificates, [Reply()])
    yield server
    server.stop()


def upload(url: str, root: Path, *extra: str, **env: str) -> Result:
    arguments = upload_args(url, root, "--max-retry-wait", "0", *extra)
    return run_xltv(*arguments, env=upload_env(url, **env), timeout=60)


def assert_imported(received: list, root: Path) -> None:  # type: ignore[type-arg]
    assert len(received) == 1
    assert received[0].complete
    assert received_files(received[0]) == {name: (root / name).read_bytes() for name in NAMES}


# Proxies.


def test_http_proxy_variable(scripted, proxy: ForwardingProxy, results: Path) -> None:  # type: ignore[no-untyped-def]
    server = scripted(Reply())

    result = upload(server.url, results, HTTP_PROXY=proxy.url)

    assert result.code == 0, result.output
    assert proxy.request_lines == [f"POST {server.url}{IMPORT_PATH}"]
    assert_imported(server.received, results)


def test_https_proxy_variable_connect(
    proxy: ForwardingProxy,
    https_server: TlsScriptedServer,
    certificates: Certificates,
    results: Path,
) -> None:
    result = upload(
        https_server.url, results, "--ca-bundle", str(certificates.ca), HTTPS_PROXY=proxy.url
    )

    assert result.code == 0, result.output
    assert proxy.request_lines == [f"CONNECT 127.0.0.1:{https_server.port}"]
    assert_imported(https_server.received, results)


def test_no_proxy_bypasses_proxy(scripted, proxy: ForwardingProxy, results: Path) -> None:  # type: ignore[no-untyped-def]
    server = scripted(Reply())

    result = upload(server.url, results, HTTP_PROXY=proxy.url, NO_PROXY="127.0.0.1")

    assert result.code == 0, result.output
    assert proxy.request_lines == []
    assert_imported(server.received, results)


def test_proxy_variable_used_for_loopback(scripted, proxy: ForwardingProxy, results: Path) -> None:  # type: ignore[no-untyped-def]
    # requests has no built-in exception for localhost: without NO_PROXY, even a
    # loopback server is reached through the proxy.
    server = scripted(Reply())
    url = server.url.replace("127.0.0.1", "localhost")

    result = upload(url, results, HTTP_PROXY=proxy.url)

    assert result.code == 0, result.output
    assert proxy.request_lines == [f"POST {url}{IMPORT_PATH}"]
    assert_imported(server.received, results)


def test_proxy_setting_beats_variable(scripted, proxy: ForwardingProxy, results: Path) -> None:  # type: ignore[no-untyped-def]
    server = scripted(Reply())
    dead_proxy = f"http://127.0.0.1:{free_port()}"

    result = upload(server.url, results, "--proxy", proxy.url, HTTP_PROXY=dead_proxy)

    assert result.code == 0, result.output
    assert proxy.request_lines == [f"POST {server.url}{IMPORT_PATH}"]
    assert_imported(server.received, results)


def test_proxy_setting_for_https(
    proxy: ForwardingProxy,
    https_server: TlsScriptedServer,
    certificates: Certificates,
    results: Path,
) -> None:
    result = upload(
        https_server.url,
        results,
        "--ca-bundle",
        str(certificates.ca),
        XLTV_PROXY=proxy.url,
    )

    assert result.code == 0, result.output
    assert proxy.request_lines == [f"CONNECT 127.0.0.1:{https_server.port}"]
    assert_imported(https_server.received, results)


def test_dead_proxy_is_retried(scripted, results: Path) -> None:  # type: ignore[no-untyped-def]
    server = scripted(Reply())
    dead_proxy = f"http://127.0.0.1:{free_port()}"

    result = upload(server.url, results, "--retries", "1", HTTP_PROXY=dead_proxy)

    assert result.code == 1
    assert "Attempt 1 of 2 failed: proxy error" in result.stderr
    assert "failed after 2 attempts: proxy error" in result.stderr
    assert server.received == []


# TLS.


def test_ca_bundle_setting(
    https_server: TlsScriptedServer, certificates: Certificates, results: Path
) -> None:
    result = upload(https_server.url, results, "--ca-bundle", str(certificates.ca))

    assert result.code == 0, result.output
    assert "warning" not in result.stderr
    assert_imported(https_server.received, results)


def test_requests_ca_bundle_variable(
    https_server: TlsScriptedServer, certificates: Certificates, results: Path
) -> None:
    result = upload(https_server.url, results, REQUESTS_CA_BUNDLE=str(certificates.ca))

    assert result.code == 0, result.output
    assert_imported(https_server.received, results)


def test_ssl_cert_file_variable(
    https_server: TlsScriptedServer, certificates: Certificates, results: Path
) -> None:
    result = upload(https_server.url, results, SSL_CERT_FILE=str(certificates.ca))

    assert result.code == 0, result.output
    assert_imported(https_server.received, results)


def test_ca_bundle_setting_beats_variable(
    https_server: TlsScriptedServer,
    certificates: Certificates,
    other_certificates: Certificates,
    results: Path,
) -> None:
    result = upload(
        https_server.url,
        results,
        "--ca-bundle",
        str(certificates.ca),
        REQUESTS_CA_BUNDLE=str(other_certificates.ca),
    )

    assert result.code == 0, result.output
    assert_imported(https_server.received, results)


def test_unknown_ca_fails_clearly(https_server: TlsScriptedServer, results: Path) -> None:
    result = upload(https_server.url, results)

    assert result.code == 1
    assert f"TLS handshake with 127.0.0.1:{https_server.port} failed" in result.stderr
    assert "certificate verify failed" in result.stderr
    assert "set ca-bundle to the CA that signed the server's certificate" in result.stderr
    assert "Traceback" not in result.output
    assert "Attempt" not in result.stderr
    assert https_server.handshakes_failed == 1
    assert https_server.received == []


def test_wrong_ca_fails(
    https_server: TlsScriptedServer, other_certificates: Certificates, results: Path
) -> None:
    result = upload(https_server.url, results, "--ca-bundle", str(other_certificates.ca))

    assert result.code == 1
    assert "certificate verify failed" in result.stderr
    assert https_server.received == []


def test_insecure_works_and_warns(https_server: TlsScriptedServer, results: Path) -> None:
    result = upload(https_server.url, results, "--insecure", "true")

    assert result.code == 0, result.output
    assert "xltv: warning: insecure is true: the server's TLS certificate is not verified" in (
        result.stderr
    )
    assert "InsecureRequestWarning" not in result.output
    assert_imported(https_server.received, results)


def test_insecure_beats_ca_variable(
    https_server: TlsScriptedServer, other_certificates: Certificates, results: Path
) -> None:
    result = upload(
        https_server.url,
        results,
        "--insecure",
        "true",
        REQUESTS_CA_BUNDLE=str(other_certificates.ca),
    )

    assert result.code == 0, result.output
    assert_imported(https_server.received, results)


def test_missing_ca_bundle_file(https_server: TlsScriptedServer, results: Path) -> None:
    result = upload(https_server.url, results, "--ca-bundle", str(results / "no-such.pem"))

    assert result.code == 2
    assert "invalid ca-bundle" in result.stderr
    assert "file not found" in result.stderr
    assert https_server.received == []


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_missing_ca_variable_file(
    https_server: TlsScriptedServer, results: Path, variable: str
) -> None:
    missing = str(results / "no-such.pem")

    result = upload(https_server.url, results, **{variable: missing})

    assert result.code == 2
    assert f"invalid ca-bundle {missing!r} from variable {variable}: file not found" in (
        result.stderr
    )
    assert "Traceback" not in result.output
    assert https_server.received == []
