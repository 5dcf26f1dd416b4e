"""Load YAML files written by users and validate them against the packaged JSON Schemas."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from xltv.errors import SettingsError

DEFAULT_CONFIG_NAME = ".xltestview.yml"


def load_yaml(path: Path, what: str) -> Any:
    """Parse a YAML file, or raise SettingsError naming the file and the line."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{what} {path} not found; check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{what} {path} cannot be read: {error}") from None

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = ""
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise SettingsError(f"{what} {path} is not valid YAML{where}: {problem}") from None


def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("xltv").joinpath("schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate(document: Any, schema_name: str, path: Path, what: str) -> None:
    """Raise SettingsError naming the file, the path inside it and what was expected."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return

    location = format_location(error.absolute_path)
    expected = error.schema.get("description") if isinstance(error.schema, dict) else None
    message = f"invalid {what} {path}: at {location}: {error.message}"
    if expected:
        message += f"; expected {expected[0].lower()}{expected[1:]}"
    raise SettingsError(message)


def format_location(parts: Any) -> str:
    """Format a jsonschema path as `uploads[0].include`, or `the top level`."""
    location = ""
    for part in parts:
        if isinstance(part, int):
            location += f"[{part}]"
        else:
            location += f".{part}" if location else str(part)
    return location or "the top level"


def find_password(document: Any, location: str = "") -> str | None:
    """Return the location of a `password` key anywhere in the document, or None."""
    if isinstance(document, dict):
        for key, value in document.items():
            inner = f"{location}.{key}" if location else str(key)
            if str(key).lower() == "password":
                return inner
            found = find_password(value, inner)
            if found:
                return found
    if isinstance(document, list):
        for index, item in enumerate(document):
            found = find_password(item, f"{location}[{index}]")
            if found:
                return found
    return None


def load_config(path: Path) -> dict[str, Any]:
    """Load and validate a config file. An empty file is an empty config."""
    document = load_yaml(path, "config file")
    if document is None:
        return {}

    password_at = find_password(document)
    if password_at:
        raise SettingsError(
            f"config file {path} contains a password at {password_at}; the config file "
            "lives in the repository, so remove it and pass the password as a secret "
            "through the password input or the XLTV_PASSWORD variable"
        )

    validate(document, "config.schema.json", path, "config file")
    config: dict[str, Any] = document
    return config
