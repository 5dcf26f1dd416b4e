"""Turn the settings from every source into a checked plan: one entry per request.

Everything that can be wrong with the settings is found here, before any file is read or
any request is sent, so a run with one bad upload sends nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xltv.collect import Selection, relative_pattern, split_patterns
from xltv.config import DEFAULT_CONFIG_NAME, load_config
from xltv.errors import SettingsError
from xltv.github import container_path, container_pattern
from xltv.metadata import check_keys, detect, detect_metadata, load_providers
from xltv.settings import SETTINGS_BY_NAME, Sources, Value, default_root, resolve


@dataclass
class Upload:
    """One request: which files go into which test specification, with which metadata."""

    test_specification: str
    include: list[str]
    exclude: list[str]
    metadata: dict[str, str]
    selection: Selection


@dataclass
class Plan:
    """Everything a run needs, checked."""

    server_url: str
    username: str
    password: str
    root: str
    uploads: list[Upload]
    if_no_files_found: str
    fail_on_error: bool
    dry_run: bool
    output: str | None
    dotenv_file: str | None
    compression_level: int
    chunked: bool
    retries: int
    max_retry_wait: float
    connect_timeout: float
    read_timeout: float
    timeout: float
    proxy: str | None
    verify: bool | str
    insecure: bool
    verbose: bool
    provider_name: str = "none"
    warnings: list[str] = field(default_factory=list)


def metadata_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_metadata(raw: Any, source: str) -> dict[str, str]:
    """Parse metadata: a mapping, KEY=VALUE items, or a YAML mapping or KEY=VALUE lines."""
    if isinstance(raw, dict):
        metadata = {str(key): metadata_value(value) for key, value in raw.items()}
        check_keys(metadata, source)
        return metadata

    items = raw if isinstance(raw, list) else None
    if items is None:
        text = str(raw)
        mapping = parse_yaml_mapping(text)
        if mapping is not None:
            return parse_metadata(mapping, source)
        items = [line for line in text.splitlines() if line.strip()]

    metadata = {}
    for item in items:
        key, separator, value = str(item).partition("=")
        if not separator or not key.strip():
            raise SettingsError(
                f"invalid metadata {str(item)[:80]!r} from {source}; expected KEY=VALUE, "
                "or a YAML mapping of keys to values"
            )
        metadata[key.strip()] = value.strip()
    check_keys(metadata, source)
    return metadata


def parse_yaml_mapping(text: str) -> dict[str, Any] | None:
    """Return the text as a YAML mapping of scalars, or None if it is not one."""
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(document, dict):
        return None
    if any(isinstance(value, (dict, list)) for value in document.values()):
        return None
    return {str(key): "" if value is None else value for key, value in document.items()}


def merged_metadata(sources: Sources, entry: Mapping[str, Any] | None) -> dict[str, str]:
    """Merge user metadata per key: config < config upload entry < variable < input < flag."""
    setting = SETTINGS_BY_NAME["metadata"]
    layers: list[tuple[Any, str]] = [
        (sources.config.get("metadata"), f"key metadata in {sources.config_path}"),
        ((entry or {}).get("metadata"), f"an uploads entry in {sources.config_path}"),
        (sources.environ.get(setting.variable), f"variable {setting.variable}"),
        (sources.environ.get(setting.input_variable), f"input metadata ({setting.input_variable})"),
        (sources.flags.get("metadata"), "flag --metadata"),
    ]
    metadata: dict[str, str] = {}
    for raw, source in layers:
        if raw is None or (isinstance(raw, (str, list, dict)) and not raw):
            continue
        if isinstance(raw, str) and not raw.strip():
            continue
        metadata.update(parse_metadata(raw, source))
    return metadata


def check_server_url(value: str) -> str:
    """Reject URLs that are not http(s), have no host, or carry credentials."""
    # Looked for before parsing, because `user:password@host` without a scheme parses as
    # scheme `user`, and the message must not show the password.
    authority = value.split("://", 1)[-1].lstrip("/").split("/", 1)[0]
    if "@" in authority:
        raise credentials_in_url(value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (reading it raises ValueError for a port that is invalid)
    except ValueError as error:
        raise SettingsError(
            f"invalid server-url {value!r}: {error}; expected an http:// or https:// URL such "
            "as https://xltestview.example.com/xltv"
        ) from None
    if parts.password is not None or "@" in parts.netloc:
        raise credentials_in_url(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"invalid server-url {value!r}; expected an http:// or https:// URL such as "
            "https://xltestview.example.com/xltv"
        )
    if parts.query or parts.fragment:
        raise SettingsError(
            f"invalid server-url {value!r}: remove the ?query or #fragment part; expected the "
            "base URL of XL TestView, with its context path if it has one"
        )
    return value


def credentials_in_url(value: str) -> SettingsError:
    """Return the error for a server URL with user:password@, shown without them."""
    scheme, separator, _ = value.partition("://")
    prefix = scheme + separator if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else ""
    return SettingsError(
        f"invalid server-url {prefix}{value.rpartition('@')[2]}: it contains credentials; "
        "remove the user:password@ part and pass the user as username and the password as a secret "
        "through the password input or XLTV_PASSWORD"
    )


def is_loopback(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        import ipaddress

        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require(sources: Sources, name: str, why: str = "") -> str:
    value = resolve(sources, name)
    if value is None:
        setting = SETTINGS_BY_NAME[name]
        ways = [f"the {name} input", f"the {setting.variable} variable"]
        if setting.has_flag:
            ways.insert(0, setting.flag)
        if setting.in_config:
            ways.append(f"the {name} key of the config file")
        raise SettingsError(f"missing {name}{why}; set it with " + ", ".join(ways))
    return str(value)


def resolve_root(sources: Sources, environ: Mapping[str, str]) -> str:
    """Return the root setting, translated to the container path in a Docker action."""
    value = resolve(sources, "root")
    if not value:
        return default_root(environ)
    return container_path(str(value), environ, "root")


def trusted_certificates(sources: Sources) -> bool | str:
    """Return the CA file to trust: ca-bundle, REQUESTS_CA_BUNDLE, SSL_CERT_FILE, or True
    for the certifi bundle that requests ships."""
    value = sources.lookup("ca-bundle")
    if value is None:
        for variable in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            if sources.environ.get(variable, "").strip():
                value = Value(sources.environ[variable].strip(), f"variable {variable}")
                break
    if value is None:
        return True
    path = str(value.raw).strip()
    if not os.path.exists(path):
        raise SettingsError(
            f"invalid ca-bundle {path!r} from {value.source}: file not found; set it to a "
            "PEM file of the CA certificates that signed the server's certificate"
        )
    return path


def find_config(sources: Sources, root: str) -> Path | None:
    explicit = resolve(sources, "config")
    if explicit:
        return Path(explicit)
    default = Path(root) / DEFAULT_CONFIG_NAME
    return default if default.is_file() else None


def make_plan(flags: Mapping[str, Any], environ: Mapping[str, str]) -> Plan:
    """Read and check every setting; raise SettingsError on the first problem."""
    sources = Sources(flags=dict(flags), environ=environ)

    # The config file is found from the root of the other sources, then may set its own.
    early_root = resolve_root(sources, environ)
    config_path = find_config(sources, early_root)
    if config_path is not None:
        sources.config = load_config(config_path)
        sources.config_path = config_path
    root = os.path.abspath(resolve_root(sources, environ))
    if not os.path.isdir(root):
        raise SettingsError(
            f"invalid root {root}: not a folder; set root to the folder the patterns are "
            "relative to"
        )

    # Connection and credentials.
    dry_run = bool(resolve(sources, "dry-run"))
    server_url = check_server_url(require(sources, "server-url"))
    username = resolve(sources, "username")
    password = resolve(sources, "password")
    if username and ":" in username:
        raise SettingsError(
            f"invalid username {username!r}: Basic authentication cannot carry a user name "
            "with a colon, because the server splits user and password at the first colon"
        )
    if not dry_run:
        username = require(sources, "username")
        password = require(
            sources,
            "password",
            " (in a pull request from a fork, secrets are not passed to the workflow)",
        )
    insecure = bool(resolve(sources, "insecure"))
    verify: bool | str = False if insecure else trusted_certificates(sources)

    # Metadata from the CI system, then the user's.
    providers_file = resolve(sources, "providers")
    providers = load_providers(Path(providers_file) if providers_file else None)
    provider = detect(providers, environ)
    detected = detect_metadata(provider, environ, resolve(sources, "build-result"))

    uploads = make_uploads(sources, root, detected)

    plan = Plan(
        server_url=server_url,
        username=username or "",
        password=password or "",
        root=root,
        uploads=uploads,
        if_no_files_found=resolve(sources, "if-no-files-found"),
        fail_on_error=bool(resolve(sources, "fail-on-error")),
        dry_run=dry_run,
        output=resolve(sources, "output"),
        dotenv_file=resolve(sources, "dotenv-file"),
        compression_level=int(resolve(sources, "compression-level")),
        chunked=bool(resolve(sources, "chunked")),
        retries=int(resolve(sources, "retries")),
        max_retry_wait=float(resolve(sources, "max-retry-wait")),
        connect_timeout=float(resolve(sources, "connect-timeout")),
        read_timeout=float(resolve(sources, "read-timeout")),
        timeout=float(resolve(sources, "timeout")),
        proxy=resolve(sources, "proxy"),
        verify=verify,
        insecure=insecure,
        verbose=bool(resolve(sources, "verbose")) or environ.get("RUNNER_DEBUG") == "1",
        provider_name=provider.name if provider else "none",
    )
    if plan.output and not plan.dry_run:
        raise SettingsError("output is set but dry-run is not; set dry-run to true to use it")

    host = urlsplit(server_url).hostname or ""
    if urlsplit(server_url).scheme == "http" and not is_loopback(host):
        plan.warnings.append(
            f"server-url {server_url} uses plain http: the password is sent unencrypted; use https"
        )
    if insecure:
        plan.warnings.append(
            "insecure is true: the server's TLS certificate is not verified; set ca-bundle instead"
        )
    return plan


def make_uploads(sources: Sources, root: str, detected: dict[str, str]) -> list[Upload]:
    """Build one Upload per request: from the settings, or from the config's uploads list."""
    explicit = sources.lookup("test-specification")
    from_file = explicit is not None and explicit.source.startswith("key ")
    entries: list[Mapping[str, Any]]
    if sources.config.get("uploads") and (explicit is None or from_file):
        entries = sources.config["uploads"]
    else:
        entries = [{}]

    uploads = []
    for index, entry in enumerate(entries):
        where = f" (uploads[{index}] in {sources.config_path})" if entry else ""
        test_specification = entry.get("test-specification") or require(
            sources, "test-specification"
        )
        include_raw = entry.get("include") or resolve(sources, "include")
        if not include_raw:
            setting = SETTINGS_BY_NAME["include"]
            raise SettingsError(
                f"missing include{where}; set it to Ant-style patterns such as "
                f"'**/TEST-*.xml' with --include, the include input or {setting.variable}"
            )
        exclude_raw = entry.get("exclude") or resolve(sources, "exclude")
        include = [
            relative_pattern(container_pattern(text, sources.environ, "include"), root)
            for text in split_patterns(include_raw)
        ]
        exclude = [
            relative_pattern(container_pattern(text, sources.environ, "exclude"), root)
            for text in split_patterns(exclude_raw)
        ]
        selection = Selection.parse(include, exclude)
        if not selection.include:
            raise SettingsError(
                f"invalid include{where}: every pattern starts with '!', so nothing is included"
            )

        metadata = {**detected, **merged_metadata(sources, entry)}
        uploads.append(Upload(str(test_specification), include, exclude, metadata, selection))
    return uploads
