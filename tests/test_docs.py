"""The README's tables agree with the code."""

from __future__ import annotations

from conftest import REPO

from xltv.errors import EXIT_INVALID_SETTINGS, EXIT_NO_FILES, EXIT_OK, EXIT_UPLOAD_FAILED
from xltv.settings import SETTINGS

README = (REPO / "README.md").read_text()


def test_readme_lists_every_setting() -> None:
    for setting in SETTINGS:
        assert f"| `{setting.name}` | `{setting.variable}` |" in README, setting.name


def test_readme_lists_every_exit_code() -> None:
    for code in (EXIT_OK, EXIT_UPLOAD_FAILED, EXIT_INVALID_SETTINGS, EXIT_NO_FILES):
        assert f"\n| {code} | " in README


def test_readme_settings_defaults_agree() -> None:
    for setting in SETTINGS:
        if setting.default is None:
            continue
        row = next(line for line in README.splitlines() if line.startswith(f"| `{setting.name}` |"))
        assert row.endswith(f"| `{setting.default}` |"), row
