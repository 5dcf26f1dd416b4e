"""Detect the CI system from the environment and build the metadata sent with each import.

The mapping from CI variables to metadata keys is data, in providers.yml beside this module.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from xltv.config import load_yaml, validate
from xltv.errors import SettingsError

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)((?:\|[a-z_]+)*)\}")
BUILD_RESULTS = {
    "success": "SUCCESS",
    "failure": "FAILURE",
    "failed": "FAILURE",
    "cancelled": "ABORTED",
    "canceled": "ABORTED",
}


@dataclass(frozen=True)
class Provider:
    """One CI system: how to detect it and how to fill each metadata key."""

    id: str
    name: str
    source: str
    detect: dict[str, Any]
    templates: dict[str, Any]

    def matches(self, environ: Mapping[str, str]) -> bool:
        for variable, expected in self.detect.get("equals", {}).items():
            if environ.get(variable) != expected:
                return False
        return all(environ.get(variable, "").strip() for variable in self.detect.get("set", []))


def apply_filter(value: str, name: str) -> str:
    if name == "basename":
        return value.rstrip("/").rsplit("/", 1)[-1]
    if name == "strip_ref":
        return value.split("@", 1)[0]
    raise SettingsError(f"unknown template filter {name!r}; use basename or strip_ref")


def render(template: str, environ: Mapping[str, str]) -> str | None:
    """Fill the ${...} references of a template, or return None if any is unset or empty."""
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        name, filters = match.group(1), match.group(2)
        value = socket.gethostname() if name == "host.name" else environ.get(name, "")
        if not value.strip():
            missing = True
            return ""
        for filter_name in filters.split("|")[1:]:
            value = apply_filter(value, filter_name)
        return value

    text = REFERENCE.sub(substitute, template)
    if missing or not text.strip():
        return None
    return text


def render_key(templates: Any, environ: Mapping[str, str]) -> str | None:
    """Render a template, the first renderable of a list, or a conditional template."""
    if isinstance(templates, str):
        return render(templates, environ)
    if isinstance(templates, list):
        for template in templates:
            value = render(template, environ)
            if value is not None:
                return value
        return None

    for variable, allowed in templates["when"].items():
        if environ.get(variable) not in allowed:
            return None
    return render(templates["template"], environ)


def to_providers(document: dict[str, Any]) -> list[Provider]:
    return [
        Provider(
            id=entry["id"],
            name=entry["name"],
            source=entry["source"],
            detect=entry["detect"],
            templates=entry["metadata"],
        )
        for entry in document["providers"]
    ]


def packaged_providers() -> list[Provider]:
    import yaml

    text = resources.files("xltv").joinpath("providers.yml").read_text(encoding="utf-8")
    return to_providers(yaml.safe_load(text))


def load_providers(user_file: Path | None) -> list[Provider]:
    """Return the user's providers first, then the packaged ones they do not replace."""
    providers = packaged_providers()
    if user_file is None:
        return providers

    document = load_yaml(user_file, "providers file")
    validate(document, "providers.schema.json", user_file, "providers file")
    user_providers = to_providers(document)
    replaced = {provider.id for provider in user_providers}
    return user_providers + [provider for provider in providers if provider.id not in replaced]


def detect(providers: list[Provider], environ: Mapping[str, str]) -> Provider | None:
    for provider in providers:
        if provider.matches(environ):
            return provider
    return None


def normalize_build_result(result: str) -> str:
    """Map success, failure/failed and cancelled/canceled to Jenkins' words; keep others."""
    return BUILD_RESULTS.get(result.strip().lower(), result.strip())


def check_keys(metadata: Mapping[str, Any], source: str) -> None:
    """Reject keys the server reserves: a property must not start with @ or _."""
    for key in metadata:
        if not key.strip():
            raise SettingsError(f"invalid metadata from {source}: a key is empty")
        if key.startswith(("@", "_")):
            raise SettingsError(
                f"invalid metadata key {key!r} from {source}: XL TestView rejects keys "
                "starting with @ or _; rename it"
            )


def detect_metadata(
    provider: Provider | None, environ: Mapping[str, str], build_result: str | None
) -> dict[str, str]:
    """Build the metadata the CI environment provides; keys without values are left out."""
    metadata: dict[str, str] = {}
    if provider is not None:
        metadata["source"] = provider.source
        for key, templates in provider.templates.items():
            value = render_key(templates, environ)
            if value is not None:
                metadata[key] = value

    if build_result:
        metadata["ciBuildResult"] = build_result
    if "ciBuildResult" in metadata:
        metadata["ciBuildResult"] = normalize_build_result(metadata["ciBuildResult"])
    return metadata
