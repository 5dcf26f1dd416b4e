"""Send the import request and turn the server's response into a result or an UploadError.

The request follows the XL TestView import API:
`POST {server}/api/internal/import/{testSpecificationId}` with Basic auth, a JSON Accept
header and a multipart/mixed body. Connection errors, timeouts, 429, 502, 503 and 504 are
retried with exponential backoff and jitter, each time with a new body made from the files.
Redirects are handled here, not by requests, so a POST never turns into a GET.
"""

from __future__ import annotations

import base64
import email.utils
import html
import json
import logging
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from xltv import __version__
from xltv.errors import ServerResponseError, UploadError

if TYPE_CHECKING:
    import requests

    from xltv.archive import MultipartBody

log = logging.getLogger(__name__)

RETRIED_STATUSES = {429, 502, 503, 504}
MAX_REDIRECTS = 5
BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0
USER_AGENT = f"xltv/{__version__}"


@dataclass(frozen=True)
class Connection:
    """Connection settings, shared by every request of a run."""

    server_url: str
    username: str
    password: str
    connect_timeout: float = 10.0
    read_timeout: float = 300.0
    total_timeout: float = 900.0
    retries: int = 3
    max_retry_wait: float = 60.0
    chunked: bool = True
    proxy: str | None = None
    verify: bool | str = True

    def __repr__(self) -> str:
        return f"Connection(server_url={self.server_url!r}, username={self.username!r})"


@dataclass
class ImportResult:
    """The result of a successful import."""

    test_run_ids: list[str]
    http_status: int
    attempts: int


def join_url(server_url: str, path: str) -> str:
    """Join the server URL, which may have a context path, and an API path.

    Trailing slashes on the server URL never produce `//`:
    `http://h/xltest/////` + `/api/x` is `http://h/xltest/api/x`.
    """
    return server_url.rstrip("/") + "/" + path.lstrip("/")


def import_url(server_url: str, test_specification: str) -> str:
    """Return the import endpoint; the id is percent-encoded as one path segment."""
    segment = quote(test_specification, safe="")
    if segment in (".", ".."):
        # A bare dot segment would be removed by URL normalisation (RFC 3986, 5.2.4).
        segment = segment.replace(".", "%2E")
    return join_url(server_url, "api/internal/import/" + segment)


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return "Basic " + token


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2].lower()


HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
HTML_TAG = re.compile(r"<[^>]*>")


def first_line(text: str, limit: int = 200) -> str:
    """Return the first non-blank line of a body, shortened, for messages.

    An HTML page, as proxies send, is given by its title, or by its text without tags.
    """
    if text.lstrip()[:1] == "<" and re.search(r"<(html|!doctype html)", text, re.IGNORECASE):
        title = HTML_TITLE.search(text)
        text = title.group(1) if title and title.group(1).strip() else HTML_TAG.sub("\n", text)
        text = html.unescape(text)
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return "(empty body)"


def retry_after(response: requests.Response) -> float | None:
    """Read Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff(attempt: int, max_wait: float) -> float:
    """Return an exponential backoff with jitter for the given attempt (1-based).

    The wait is drawn from the upper half of the exponential step, and never exceeds
    `max_wait` (the max-retry-wait setting), which is the longest wait before any retry.
    """
    ceiling = min(BACKOFF_MAX, max_wait, BACKOFF_BASE * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def describe_status(
    status: int, body: str, connection: Connection, test_specification: str, url: str
) -> str:
    """Explain an error status in the user's terms: the cause and what to check."""
    server_message = server_error_message(body)
    if status == 304:
        return (
            f"no new results: XL TestView already has these results in test specification "
            f"{test_specification!r} (HTTP 304), so nothing was imported; check that the "
            "tests wrote new result files"
        )
    if status == 400:
        return f"the server rejected the request (HTTP 400): {server_message}"
    if status == 401:
        return (
            f"the server rejected the credentials of user {connection.username!r} (HTTP 401); "
            "check the username and the password secret"
        )
    if status == 402:
        return "the server has no valid license (HTTP 402); ask its administrator"
    if status == 404:
        return (
            f"test specification {test_specification!r} not found on {connection.server_url} "
            "(HTTP 404); check the test specification id and the server URL with its "
            "context path"
        )
    if status == 413:
        return (
            f"the request body was too large for the server (HTTP 413) at {url}; a proxy in "
            "front of the server may limit the body size"
        )
    if status == 422:
        return (
            f"the server could not process the results (HTTP 422): {server_message}; check "
            "that the include patterns match every file the test tool needs"
        )
    return f"unexpected response HTTP {status} from {url}: {first_line(body)}"


def server_error_message(body: str) -> str:
    """Return the `message` of the server's error JSON, or the body's first line."""
    try:
        document = json.loads(body)
    except ValueError:
        return first_line(body)
    if isinstance(document, dict) and document.get("message"):
        return str(document["message"])
    return first_line(body)


def read_test_run_ids(body: str, status: int) -> list[str]:
    """Read testRunId from a 200 response: a string, or an array whose first item is used."""
    try:
        document = json.loads(body)
    except ValueError:
        raise UploadError(
            f"the server responded with HTTP {status} but the body is not JSON: "
            f"{first_line(body)}; a proxy may have responded instead of XL TestView, so check "
            "the server URL"
        ) from None
    value = document.get("testRunId") if isinstance(document, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if len(value) > 1:
            log.info("The server returned %d test run ids; using the first", len(value))
        return [str(value[0])]
    log.warning("The server imported the results but sent no testRunId: %s", first_line(body))
    return []


class Sender:
    """Send one import with retries and redirects; one instance per run."""

    def __init__(self, connection: Connection) -> None:
        import requests

        self.connection = connection
        self.session = requests.Session()
        self.session.headers.clear()
        # Proxies and verify go with each request: requests lets the environment's
        # HTTPS_PROXY and REQUESTS_CA_BUNDLE override the session's own values.
        self.proxies = (
            {"http": connection.proxy, "https": connection.proxy} if connection.proxy else None
        )
        if connection.verify is False:
            # The plan warns once per run; urllib3 would add a warning to every request.
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        """Hide the password, plain or inside a Basic token, in a body a server sent back.

        A proxy's debugging page or a server's error may echo the request's credentials.
        """
        connection = self.connection
        token = basic_auth(connection.username, connection.password).removeprefix("Basic ")
        for secret in (token, connection.password):
            if secret:
                text = text.replace(secret, "***")
        return text

    def headers(self, body: MultipartBody) -> dict[str, str]:
        return {
            "Authorization": basic_auth(self.connection.username, self.connection.password),
            "Accept": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Content-Type": body.content_type,
        }

    def send(self, make_body: Callable[[], MultipartBody], test_specification: str) -> ImportResult:
        """Send the import, retrying what can be retried, until the total timeout."""
        import requests

        connection = self.connection
        deadline = time.monotonic() + connection.total_timeout
        url = import_url(connection.server_url, test_specification)
        chunked = connection.chunked
        redirects = 0
        attempt = 0

        while True:
            attempt += 1
            body = make_body()
            reason: str
            wait: float | None = None
            try:
                response = self.post(url, body, chunked, deadline)
                status = response.status_code
                text = self.redact(response.text)
                response.close()
            except requests.exceptions.Timeout as error:
                reason = f"timed out ({type(error).__name__})"
            except requests.exceptions.SSLError as error:
                raise UploadError(
                    f"TLS handshake with {host_of(url)} failed: {short_error(error)}; set "
                    "ca-bundle to the CA that signed the server's certificate"
                ) from None
            except requests.exceptions.ProxyError as error:
                reason = f"proxy error: {short_error(error)}"
            except requests.exceptions.ConnectionError as error:
                reason = f"connection failed: {short_error(error)}"
            except requests.exceptions.ChunkedEncodingError as error:
                reason = f"the response was cut off: {short_error(error)}"
            except requests.exceptions.RequestException as error:
                raise UploadError(f"the request to {url} failed: {short_error(error)}") from None
            else:
                log.info("Response: HTTP %s from %s", status, url)

                if status == 200:
                    return ImportResult(read_test_run_ids(text, status), status, attempt)
                if status in (307, 308):
                    redirects += 1
                    url = self.follow(url, response.headers.get("Location", ""), redirects)
                    attempt -= 1
                    continue
                if status in (301, 302, 303):
                    location = response.headers.get("Location", "(no Location header)")
                    raise UploadError(
                        f"the server redirected the upload (HTTP {status}) from {url} to "
                        f"{location}; a redirect would turn the POST into a GET, so set "
                        "server-url to the new location"
                    )
                if status == 411 and chunked:
                    log.warning(
                        "The server or a proxy rejected the chunked body (HTTP 411); sending "
                        "again with Content-Length. Set chunked: false to do this from the start"
                    )
                    chunked = False
                    attempt -= 1
                    continue
                if status not in RETRIED_STATUSES:
                    message = describe_status(status, text, connection, test_specification, url)
                    if status == 413:
                        message += f"; the zip was {body.archive.size} bytes"
                    if status == 304 and attempt > 1:
                        message += " (an earlier attempt that failed may have imported them)"
                    raise ServerResponseError(message, status)

                reason = f"HTTP {status}: {first_line(text)}"
                wait = retry_after(response)
                if wait is not None and wait > connection.max_retry_wait:
                    raise UploadError(
                        f"the server asked to retry after {wait:.0f} s (HTTP {status}), longer "
                        f"than max-retry-wait ({connection.max_retry_wait:g} s); retry later "
                        "or raise max-retry-wait"
                    )

            if attempt > connection.retries:
                raise UploadError(f"upload to {url} failed after {attempt} attempts: {reason}")
            if wait is None:
                wait = backoff(attempt, connection.max_retry_wait)
            if time.monotonic() + wait > deadline:
                raise UploadError(
                    f"upload to {url} failed: {reason}, and the next retry would pass the "
                    f"timeout of {connection.total_timeout:g} s"
                )
            log.warning(
                "Attempt %d of %d failed: %s; retrying in %.1f s",
                attempt,
                connection.retries + 1,
                reason,
                wait,
            )
            time.sleep(wait)

    def post(
        self, url: str, body: MultipartBody, chunked: bool, deadline: float
    ) -> requests.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UploadError(f"upload timed out after {self.connection.total_timeout:g} s")
        timeout = (
            min(self.connection.connect_timeout, remaining),
            min(self.connection.read_timeout, remaining),
        )
        headers = self.headers(body)
        log.info("Sending to %s", url)
        options: dict[str, Any] = {
            "headers": headers,
            "timeout": timeout,
            "allow_redirects": False,
            "verify": self.connection.verify,
            "proxies": self.proxies,
        }
        if chunked:
            return self.session.post(url, data=iter(body), **options)

        with spooled(body) as (spool, length):
            headers["Content-Length"] = str(length)
            return self.session.post(url, data=spool, **options)

    def follow(self, url: str, location: str, redirects: int) -> str:
        """Return the target of a 307 or 308, which gets the whole body again."""
        from urllib.parse import urljoin

        if not location:
            raise UploadError(f"the server redirected {url} without a Location header")
        if redirects > MAX_REDIRECTS:
            raise UploadError(f"more than {MAX_REDIRECTS} redirects from {url}; check server-url")
        target = urljoin(url, location)
        if host_of(target) != host_of(url) or urlsplit(target).scheme != urlsplit(url).scheme:
            raise UploadError(
                f"the server redirected the upload from {host_of(url)} to another host or "
                f"scheme ({urlunsplit(urlsplit(target)._replace(query='', fragment=''))}); "
                "the credentials are not sent there, so set server-url to the new location"
            )
        log.warning("Redirected to %s; sending the whole body again", target)
        return target


def short_error(error: BaseException) -> str:
    """Return the innermost reason of a requests error, without the URL's noise."""
    reason = error
    while reason.__context__ is not None and reason.__context__ is not reason:
        reason = reason.__context__
    text = str(reason) or type(reason).__name__
    return first_line(text)


class spooled:
    """Write the body to a temporary file outside the root, and delete it afterwards."""

    def __init__(self, body: MultipartBody) -> None:
        self.body = body
        self.file: IO[bytes] | None = None

    def __enter__(self) -> tuple[IO[bytes], int]:
        self.file = tempfile.TemporaryFile(prefix="xltv-body-")
        for chunk in self.body:
            self.file.write(chunk)
        length = self.file.tell()
        self.file.seek(0)
        return self.file, length

    def __exit__(self, *exc: Any) -> None:
        if self.file is not None:
            self.file.close()


def write_body(body: MultipartBody, path: str) -> int:
    """Write the exact request body to a file, for dry-run --output."""
    with open(path, "wb") as target:
        for chunk in body:
            target.write(chunk)
        return target.tell()
