"""Credentials: required before anything is sent, and never shown anywhere.

Every run here collects all that xltv writes (stdout, stderr, step outputs, job summary,
dotenv file, the dry-run body) and searches it for the password, in plain text and in the
base64 form of the Authorization header.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    PASSWORD,
    USERNAME,
    Reply,
    Result,
    ScriptedServer,
    clean_env,
    run_xltv,
    upload_args,
)
from faultkit import TlsScriptedServer, free_port, make_certificates

Start = Callable[..., ScriptedServer]
TOKEN = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode("ascii")
URL_PASSWORD = "url-Pa55-in-link"


@dataclass
class Written:
    """Everything one run wrote that a user or a log collector could read."""

    result: Result
    texts: dict[str, str]


def run_and_collect(tmp_path: Path, arguments: list[str], **env: str) -> Written:
    """Run xltv as a GitHub Actions step with outputs, summary and dotenv file."""
    folder = tmp_path / "written"
    folder.mkdir(exist_ok=True)
    outputs = folder / "github-output"
    summary = folder / "step-summary"
    dotenv = folder / "xltv.env"
    environment = clean_env(
        XLTV_PASSWORD=PASSWORD,
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(outputs),
        GITHUB_STEP_SUMMARY=str(summary),
        XLTV_DOTENV_FILE=str(dotenv),
        **env,
    )
    result = run_xltv(*arguments, env=environment, timeout=60)
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    for path in folder.iterdir():
        texts[path.name] = path.read_bytes().decode("utf-8", "replace")
    return Written(result, texts)


def assert_no_secret(written: Written, *secrets: str) -> None:
    for name, text in written.texts.items():
        if name == "stderr":
            # The mask command is how the runner learns the secret; it must come first.
            lines = text.splitlines()
            assert lines[0] == f"::add-mask::{PASSWORD}"
            text = "\n".join(lines[1:])
        for secret in (PASSWORD, TOKEN, *secrets):
            assert secret not in text, f"{secret!r} appears in {name}"


def assert_nothing_received(server: ScriptedServer) -> None:
    assert server.received == []


# Missing credentials: exit 2 before anything is sent.


def test_missing_password(scripted: Start, results: Path) -> None:
    server = scripted(Reply())

    result = run_xltv(*upload_args(server.url, results), env=clean_env())

    assert result.code == 2
    assert "missing password" in result.stderr
    assert "the password input" in result.stderr
    assert "the XLTV_PASSWORD variable" in result.stderr
    assert "pull request from a fork" in result.stderr
    assert_nothing_received(server)


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_empty_password_input(scripted: Start, results: Path, value: str) -> None:
    server = scripted(Reply())
    env = clean_env(**{"INPUT_PASSWORD": value, "XLTV_PASSWORD": ""})

    result = run_xltv(*upload_args(server.url, results), env=env)

    assert result.code == 2
    assert "missing password" in result.stderr
    assert "XLTV_PASSWORD" in result.stderr
    assert_nothing_received(server)


def test_missing_username(scripted: Start, results: Path) -> None:
    server = scripted(Reply())
    arguments = [item for item in upload_args(server.url, results) if item not in ("--username",)]
    arguments.remove(USERNAME)

    result = run_xltv(*arguments, env=clean_env(XLTV_PASSWORD=PASSWORD))

    assert result.code == 2
    assert "missing username" in result.stderr
    assert "the username input" in result.stderr
    assert "the XLTV_USERNAME variable" in result.stderr
    assert PASSWORD not in result.output
    assert_nothing_received(server)


def test_empty_username_input(scripted: Start, results: Path) -> None:
    server = scripted(Reply())
    arguments = [item for item in upload_args(server.url, results) if item != "--username"]
    arguments.remove(USERNAME)
    env = clean_env(**{"XLTV_PASSWORD": PASSWORD, "INPUT_USERNAME": " "})

    result = run_xltv(*arguments, env=env)

    assert result.code == 2
    assert "missing username" in result.stderr
    assert_nothing_received(server)


def test_username_with_colon_rejected(scripted: Start, results: Path) -> None:
    # Basic authentication splits user and password at the first colon (RFC 7617).
    server = scripted(Reply())
    arguments = upload_args(server.url, results)
    arguments[arguments.index(USERNAME)] = "team:importer"

    result = run_xltv(*arguments, env=clean_env(XLTV_PASSWORD=PASSWORD))

    assert result.code == 2
    assert "invalid username 'team:importer'" in result.stderr
    assert_nothing_received(server)


# Credentials in the server URL.


@pytest.mark.parametrize(
    "url",
    [
        f"https://importer:{URL_PASSWORD}@xltv.example.com/xltv",
        f"http://:{URL_PASSWORD}@127.0.0.1:8080",
        f"https://importer:{URL_PASSWORD}@[::1",
        f"ftp://importer:{URL_PASSWORD}@127.0.0.1/",
    ],
)
def test_password_in_url_rejected(tmp_path: Path, results: Path, url: str) -> None:
    written = run_and_collect(tmp_path, upload_args(url, results))

    assert written.result.code == 2
    assert "contains credentials" in written.result.stderr
    assert "XLTV_PASSWORD" in written.result.stderr
    assert "Traceback" not in written.result.output
    assert_no_secret(written, URL_PASSWORD)


def test_user_only_in_url_rejected(tmp_path: Path, results: Path) -> None:
    written = run_and_collect(tmp_path, upload_args("https://importer@127.0.0.1/", results))

    assert written.result.code == 2
    assert "contains credentials" in written.result.stderr


# Plain http to a host that is not loopback: a warning. Dry runs only, so that nothing is
# sent to that host.


def test_plain_http_warns(tmp_path: Path, results: Path) -> None:
    arguments = upload_args("http://xltv.example.com/xltv", results, "--dry-run")

    written = run_and_collect(tmp_path, arguments)

    assert written.result.code == 0, written.result.output
    assert "uses plain http: the password is sent unencrypted; use https" in (written.result.stderr)
    assert_no_secret(written)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost/xltv", "http://[::1]:9000"]
)
def test_plain_http_loopback_no_warning(tmp_path: Path, results: Path, url: str) -> None:
    written = run_and_collect(tmp_path, upload_args(url, results, "--dry-run"))

    assert written.result.code == 0, written.result.output
    assert "plain http" not in written.result.stderr


# The password in no output, on every path.


def test_secret_not_in_success(scripted: Start, tmp_path: Path, results: Path) -> None:
    server = scripted(Reply())

    written = run_and_collect(tmp_path, upload_args(server.url, results, "--verbose"))

    assert written.result.code == 0, written.result.output
    assert "Authorization" not in written.result.stderr or "hidden" in written.result.stderr
    assert_no_secret(written)


def test_secret_not_in_dry_run(tmp_path: Path, results: Path) -> None:
    body = tmp_path / "body.bin"
    arguments = upload_args(
        "https://xltv.example.com", results, "--dry-run", "--output", str(body), "--verbose"
    )

    written = run_and_collect(tmp_path, arguments)

    assert written.result.code == 0, written.result.output
    assert "password hidden" in written.result.stderr
    assert_no_secret(written)
    content = body.read_bytes()
    assert PASSWORD.encode() not in content
    assert TOKEN.encode() not in content


@pytest.mark.parametrize(
    "reply",
    [
        Reply(401, b""),
        Reply(400, f'{{"message": "bad login {USERNAME}:{PASSWORD}"}}'.encode()),
        Reply(422, f'{{"message": "header was Basic {TOKEN}"}}'.encode()),
        Reply(500, f"<html><title>echo {PASSWORD}</title></html>".encode()),
        Reply(200, f"not json {PASSWORD}".encode()),
        Reply(503, f"retry {TOKEN}".encode()),
        Reply(304, b""),
        Reply(action="drop"),
    ],
    ids=["401", "400-echo", "422-token", "500-html", "200-text", "503", "304", "drop"],
)
def test_secret_not_in_failures(
    scripted: Start, tmp_path: Path, results: Path, reply: Reply
) -> None:
    server = scripted(reply)
    arguments = upload_args(server.url, results, "--retries", "1", "--max-retry-wait", "0")

    written = run_and_collect(tmp_path, arguments, RUNNER_DEBUG="1")

    assert written.result.code == 1
    assert "Traceback" not in written.result.output
    assert_no_secret(written)


def test_secret_not_in_tls_failure(tmp_path: Path, results: Path) -> None:
    server = TlsScriptedServer(make_certificates(tmp_path / "tls"), [Reply()])
    try:
        written = run_and_collect(tmp_path, upload_args(server.url, results))
    finally:
        server.stop()

    assert written.result.code == 1
    assert "TLS handshake" in written.result.stderr
    assert_no_secret(written)


def test_secret_not_in_timeout(scripted: Start, tmp_path: Path, results: Path) -> None:
    server = scripted(Reply(delay=5))
    arguments = upload_args(server.url, results, "--read-timeout", "0.3", "--retries", "0")

    written = run_and_collect(tmp_path, arguments)

    assert written.result.code == 1
    assert "timed out" in written.result.stderr
    assert_no_secret(written)


def test_proxy_password_not_shown(tmp_path: Path, results: Path) -> None:
    proxy_password = "proxy-Pa55-secret"
    proxy = f"http://proxyuser:{proxy_password}@127.0.0.1:{free_port()}"
    arguments = upload_args(
        f"http://127.0.0.1:{free_port()}", results, "--proxy", proxy, "--retries", "1"
    )

    written = run_and_collect(tmp_path, [*arguments, "--max-retry-wait", "0"])

    assert written.result.code == 1
    assert "proxy error" in written.result.stderr
    assert_no_secret(written, proxy_password)


@pytest.mark.parametrize(
    "extra",
    [
        ["--retries", "many"],
        ["--compression-level", "11"],
        ["--metadata", "@bad=1"],
        ["--include", "../outside/*.xml"],
        ["--ca-bundle", "/no/such/ca.pem"],
        ["--output", "body.bin"],
    ],
    ids=["retries", "level", "metadata", "pattern", "ca-bundle", "output"],
)
def test_secret_not_in_invalid_settings(tmp_path: Path, results: Path, extra: list[str]) -> None:
    written = run_and_collect(tmp_path, upload_args("https://127.0.0.1:1", results, *extra))

    assert written.result.code == 2
    assert "Traceback" not in written.result.output
    assert_no_secret(written)


def test_password_in_config_rejected(tmp_path: Path, results: Path) -> None:
    config = results / ".xltestview.yml"
    config.write_text(f"server-url: https://127.0.0.1:1\npassword: {PASSWORD}\n")

    written = run_and_collect(tmp_path, upload_args("https://127.0.0.1:1", results))

    assert written.result.code == 2
    assert "contains a password at password" in written.result.stderr
    assert_no_secret(written)


def test_password_is_not_a_flag(tmp_path: Path, results: Path) -> None:
    written = run_and_collect(
        tmp_path, upload_args("https://127.0.0.1:1", results, "--password", PASSWORD)
    )

    assert written.result.code == 2
    assert "the password cannot be a flag" in written.result.stderr
    assert_no_secret(written)
