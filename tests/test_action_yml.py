"""action.yml and xltv/settings.py describe the same inputs with the same defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from xltv.settings import SETTINGS, SETTINGS_BY_NAME

ACTION = Path(__file__).resolve().parent.parent / "action.yml"

# Inputs whose action default is a workflow expression that the code cannot know.
EXPRESSION_DEFAULTS = {"build-result": "${{ job.status }}"}


def action() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return document


def test_every_input_is_a_setting() -> None:
    unknown = set(action()["inputs"]) - set(SETTINGS_BY_NAME)
    assert unknown == set()


def test_every_setting_is_an_input() -> None:
    missing = [setting.name for setting in SETTINGS if setting.name not in action()["inputs"]]
    assert missing == []


def test_inputs_leave_defaults_to_code() -> None:
    # The runner passes a declared default as INPUT_NAME, which would beat the XLTV_
    # variable and the config file, so only workflow expressions are declared.
    for name, spec in action()["inputs"].items():
        assert spec.get("default") == EXPRESSION_DEFAULTS.get(name), name


def test_inputs_state_default_in_description() -> None:
    for name, spec in action()["inputs"].items():
        default = SETTINGS_BY_NAME[name].default
        if default is not None:
            assert f"Default: {default}." in spec["description"], name


def test_inputs_are_optional() -> None:
    # The config file or XLTV_ variables may supply any setting, and the runner does not
    # enforce `required` for Docker actions anyway.
    for name, spec in action()["inputs"].items():
        assert spec.get("required") is False, name


def test_outputs_match_code() -> None:
    from xltv.outputs import UploadReport, output_values

    assert set(action()["outputs"]) == set(output_values([UploadReport("x")]))


def test_runs_dockerfile() -> None:
    assert action()["runs"] == {"using": "docker", "image": "Dockerfile"}
