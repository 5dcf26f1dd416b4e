"""The settings of `xltv upload`: their names, sources, precedence and types.

Every setting has one name, used four ways: the flag `--NAME`, the GitHub action input
`NAME`, the variable `XLTV_<NAME>` (upper case, hyphens to underscores) and the config file
key `NAME`. The GitHub runner passes an input as `INPUT_` and the name upper-cased, with
hyphens kept.
Precedence: flag > action input > variable > config file > default. An empty string
counts as unset, because the GitHub runner passes every declared input, also when empty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xltv.errors import SettingsError

BOOLEAN_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


@dataclass(frozen=True)
class Setting:
    """One setting of the upload command."""

    name: str
    help: str
    kind: str = "text"  # text, boolean, integer, number, choice, patterns or metadata
    default: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    has_flag: bool = True
    in_config: bool = True

    @property
    def input_variable(self) -> str:
        return "INPUT_" + self.name.upper().replace(" ", "_")

    @property
    def variable(self) -> str:
        return "XLTV_" + self.name.upper().replace("-", "_")

    @property
    def flag(self) -> str:
        return "--" + self.name


SETTINGS: tuple[Setting, ...] = (
    Setting("server-url", "XL TestView base URL, with its context path if it has one"),
    Setting("username", "user name for Basic authentication"),
    Setting(
        "password",
        "password for Basic authentication; only from the password input or XLTV_PASSWORD",
        has_flag=False,
        in_config=False,
    ),
    Setting("test-specification", "id of the test specification to import into"),
    Setting(
        "include",
        "Ant-style patterns of result files, separated by commas or new lines; "
        "a pattern starting with ! excludes",
        kind="patterns",
    ),
    Setting("exclude", "Ant-style patterns of files to leave out", kind="patterns"),
    Setting(
        "root",
        "folder the patterns are relative to "
        "(default: $GITHUB_WORKSPACE, $CI_PROJECT_DIR, $WORKSPACE, else the current folder)",
    ),
    Setting(
        "metadata",
        "extra metadata as KEY=VALUE (repeatable); as input or variable a YAML mapping "
        "or KEY=VALUE lines",
        kind="metadata",
    ),
    Setting(
        "build-result",
        "result of the build for ciBuildResult: success, failure, cancelled or any text",
    ),
    Setting(
        "config",
        "YAML config file (default: .xltestview.yml in the root, if present)",
        in_config=False,
    ),
    Setting("providers", "YAML file of extra or overriding CI metadata mappings"),
    Setting(
        "if-no-files-found",
        "what to do when no file matches: error (exit 3), warn or ignore (exit 0)",
        kind="choice",
        default="error",
        choices=("error", "warn", "ignore"),
    ),
    Setting(
        "fail-on-error",
        "false turns a failed upload into a warning and exit code 0",
        kind="boolean",
        default="true",
    ),
    Setting(
        "dry-run",
        "show what would be sent and send nothing",
        kind="boolean",
        default="false",
    ),
    Setting(
        "output",
        "with dry-run: write the exact request body to this file",
    ),
    Setting(
        "dotenv-file",
        "write the outputs as KEY=value lines to this file (GitLab dotenv report)",
    ),
    Setting(
        "compression-level",
        "zip compression level, 0 (store) to 9 (smallest)",
        kind="integer",
        default="6",
        minimum=0,
        maximum=9,
    ),
    Setting(
        "chunked",
        "stream the body with chunked transfer encoding; false spools the zip to a "
        "temporary file and sends Content-Length",
        kind="boolean",
        default="true",
    ),
    Setting(
        "retries",
        "how many times to retry after a connection error, a timeout, 429, 502, 503 or 504",
        kind="integer",
        default="3",
        minimum=0,
        maximum=100,
    ),
    Setting(
        "max-retry-wait",
        "longest wait before a retry, in seconds; a longer Retry-After fails the upload",
        kind="number",
        default="60",
        minimum=0,
    ),
    Setting(
        "connect-timeout",
        "time to open a connection, in seconds",
        kind="number",
        default="10",
        minimum=0.001,
    ),
    Setting(
        "read-timeout",
        "time to wait for the server between bytes, in seconds",
        kind="number",
        default="300",
        minimum=0.001,
    ),
    Setting(
        "timeout",
        "time for the whole upload including retries, in seconds",
        kind="number",
        default="900",
        minimum=0.001,
    ),
    Setting("proxy", "proxy URL for the upload (default: HTTPS_PROXY, HTTP_PROXY, NO_PROXY)"),
    Setting(
        "ca-bundle",
        "file of CA certificates to trust (default: REQUESTS_CA_BUNDLE, SSL_CERT_FILE)",
    ),
    Setting(
        "insecure",
        "true skips TLS certificate verification; warns on every run",
        kind="boolean",
        default="false",
    ),
    Setting(
        "verbose",
        "debug logging; also on when RUNNER_DEBUG=1",
        kind="boolean",
        default="false",
    ),
)

SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Value:
    """A raw setting value and where it came from, for messages."""

    raw: Any
    source: str


@dataclass
class Sources:
    """The raw values of every source, before precedence and conversion."""

    flags: dict[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    config_path: Path | None = None

    def lookup(self, name: str) -> Value | None:
        """Return the value with the highest precedence, or None when no source sets it."""
        setting = SETTINGS_BY_NAME[name]
        candidates: list[tuple[Any, str]] = []
        if setting.has_flag:
            candidates.append((self.flags.get(name), f"flag {setting.flag}"))
        candidates.append(
            (
                self.environ.get(setting.input_variable),
                f"input {name} ({setting.input_variable})",
            )
        )
        candidates.append((self.environ.get(setting.variable), f"variable {setting.variable}"))
        if setting.in_config:
            candidates.append((self.config.get(name), f"key {name} in {self.config_path}"))

        for raw, source in candidates:
            if not is_unset(raw, setting):
                return Value(raw, source)
        return None


def is_unset(raw: Any, setting: Setting) -> bool:
    """Tell whether a raw value counts as not given: None, blank text, or only blanks.

    For patterns, which commas separate, text of only commas and blanks is blank too.
    """
    if raw is None:
        return True
    if isinstance(raw, str):
        text = raw.replace(",", "") if setting.kind == "patterns" else raw
        return text.strip() == ""
    if isinstance(raw, list):
        return all(is_unset(item, setting) for item in raw)
    return isinstance(raw, dict) and not raw


def convert(setting: Setting, value: Value) -> Any:
    """Convert a raw value to the setting's type, or raise SettingsError naming its source."""
    raw = value.raw
    if setting.kind == "boolean":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word not in BOOLEAN_WORDS:
            raise invalid(setting, value, "true or false")
        return BOOLEAN_WORDS[word]

    if setting.kind in ("integer", "number"):
        return convert_number(setting, value)

    if setting.kind == "choice":
        word = str(raw).strip().lower()
        if word not in setting.choices:
            raise invalid(setting, value, "one of " + ", ".join(setting.choices))
        return word

    if isinstance(raw, (dict, list)) and setting.kind == "text":
        raise invalid(setting, value, "a single text value")
    if setting.name == "password":
        return raw  # Spaces may be part of a password.
    return raw.strip() if isinstance(raw, str) else raw


def convert_number(setting: Setting, value: Value) -> int | float:
    raw = value.raw
    expected = "a whole number" if setting.kind == "integer" else "a number"
    if setting.minimum is not None and setting.maximum is not None:
        expected += f" from {setting.minimum:g} to {setting.maximum:g}"
    elif setting.minimum is not None:
        expected += f" of at least {setting.minimum:g}"

    if isinstance(raw, bool):
        raise invalid(setting, value, expected)
    try:
        number: int | float = int(str(raw).strip()) if setting.kind == "integer" else float(raw)
    except (TypeError, ValueError):
        raise invalid(setting, value, expected) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise invalid(setting, value, expected)
    if setting.minimum is not None and number < setting.minimum:
        raise invalid(setting, value, expected)
    if setting.maximum is not None and number > setting.maximum:
        raise invalid(setting, value, expected)
    return number


def invalid(setting: Setting, value: Value, expected: str) -> SettingsError:
    shown = "(hidden)" if setting.name == "password" else repr(value.raw)
    return SettingsError(
        f"invalid {setting.name}: {shown} from {value.source}; expected {expected}"
    )


def resolve(sources: Sources, name: str) -> Any:
    """Return the converted value of one setting, its default, or None."""
    setting = SETTINGS_BY_NAME[name]
    value = sources.lookup(name)
    if value is None:
        if setting.default is None:
            return None
        value = Value(setting.default, "the default")
    return convert(setting, value)


def default_root(environ: Mapping[str, str]) -> str:
    for variable in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR", "WORKSPACE"):
        if environ.get(variable, "").strip():
            return environ[variable].strip()
    return os.getcwd()
