"""The GitLab templates as gitlab-ci-local expands them with `--preview`, run by no job."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

import xltv
from xltv.settings import SETTINGS_BY_NAME

from .pipeline import CLASSIC_INCLUDE, COMPONENT, Pipeline

COMPONENT_PIPELINE = """\
stages: [test, report]
unit-tests:
  stage: test
  script: echo testing
include:
  - local: templates/xltestview.yml
    inputs:
      job-name: import-results
      stage: report
      needs: [unit-tests]
      image: local/xltv:test
      allow-failure: true
      server-url: http://127.0.0.1:8080/xltv
      username: ci-bot
      test-specification: unit tests
      include: "**/TEST-*.xml"
      exclude: "**/TEST-*Slow*.xml"
      metadata: |
        branch: $CI_COMMIT_REF_NAME
        team: core
      build-result: success
      if-no-files-found: warn
"""

MINIMAL_COMPONENT_PIPELINE = """\
unit-tests:
  script: echo testing
include:
  - local: templates/xltestview.yml
    inputs:
      needs: [unit-tests]
      server-url: http://127.0.0.1:8080
      test-specification: unit tests
      include: "**/TEST-*.xml"
"""

CLASSIC_PIPELINE = """\
include:
  - local: gitlab/xltestview.gitlab-ci.yml
unit-tests:
  script: echo testing
xltestview:
  extends: .xltestview-upload
  needs: [unit-tests]
  variables:
    XLTV_SERVER_URL: http://127.0.0.1:8080
    XLTV_TEST_SPECIFICATION: unit tests
    XLTV_INCLUDE: "**/TEST-*.xml"
"""

DEFAULT_IMAGE = f"registry.example.com/xltv/xltv:{xltv.__version__}"
DOTENV_ARTIFACTS = {"when": "always", "reports": {"dotenv": "xltestview.env"}}
UNIT_TESTS_NEED = [{"job": "unit-tests", "artifacts": True, "optional": False}]


def preview(pipeline: Pipeline) -> dict[str, Any]:
    result = pipeline.run("--preview")
    assert result.returncode == 0, result.stdout + result.stderr
    expanded = yaml.safe_load(result.stdout)
    assert isinstance(expanded, dict)
    return expanded


def test_component_inputs_expand_into_job(make_pipeline: Callable[..., Pipeline]) -> None:
    job = preview(make_pipeline(COMPONENT_PIPELINE))["import-results"]

    assert job["stage"] == "report"
    assert job["image"] == {"name": "local/xltv:test", "entrypoint": [""]}
    assert job["needs"] == UNIT_TESTS_NEED
    assert job["when"] == "always"
    assert job["allow_failure"] is True
    assert job["script"] == ["xltv upload"]
    assert job["artifacts"] == DOTENV_ARTIFACTS
    assert job["variables"] == {
        "XLTV_SERVER_URL": "http://127.0.0.1:8080/xltv",
        "XLTV_USERNAME": "ci-bot",
        "XLTV_TEST_SPECIFICATION": "unit tests",
        "XLTV_INCLUDE": "**/TEST-*.xml",
        "XLTV_EXCLUDE": "**/TEST-*Slow*.xml",
        "XLTV_METADATA": "branch: $CI_COMMIT_REF_NAME\nteam: core\n",
        "XLTV_BUILD_RESULT": "success",
        "XLTV_IF_NO_FILES_FOUND": "warn",
        "XLTV_DOTENV_FILE": "xltestview.env",
    }


def test_component_defaults(make_pipeline: Callable[..., Pipeline]) -> None:
    job = preview(make_pipeline(MINIMAL_COMPONENT_PIPELINE))["xltestview-upload"]

    assert job["stage"] == "test"
    assert job["image"] == {"name": DEFAULT_IMAGE, "entrypoint": [""]}
    assert job["allow_failure"] is False
    assert job["when"] == "always"
    assert job["variables"]["XLTV_IF_NO_FILES_FOUND"] == ""
    assert job["variables"]["XLTV_USERNAME"] == ""
    assert job["variables"]["XLTV_METADATA"] == ""
    assert job["variables"]["XLTV_BUILD_RESULT"] == ""


@pytest.mark.parametrize("mandatory", ["needs", "server-url", "test-specification", "include"])
def test_component_missing_mandatory_input(
    make_pipeline: Callable[..., Pipeline], mandatory: str
) -> None:
    pipeline_yaml = re.sub(
        rf"^      {mandatory}: .*\n", "", MINIMAL_COMPONENT_PIPELINE, flags=re.MULTILINE
    )
    assert pipeline_yaml != MINIMAL_COMPONENT_PIPELINE

    result = make_pipeline(pipeline_yaml).run("--preview")

    assert result.returncode != 0
    assert f"`{mandatory}` input: required value has not been provided" in result.stderr


def test_component_rejects_unknown_option(make_pipeline: Callable[..., Pipeline]) -> None:
    pipeline_yaml = MINIMAL_COMPONENT_PIPELINE + "      if-no-files-found: fail\n"

    result = make_pipeline(pipeline_yaml).run("--preview")

    assert result.returncode != 0
    assert (
        "`if-no-files-found` input: `fail` cannot be used because it is not in the list "
        "of allowed options" in result.stderr
    )


def test_classic_include_extends(make_pipeline: Callable[..., Pipeline]) -> None:
    job = preview(make_pipeline(CLASSIC_PIPELINE))["xltestview"]

    assert job["image"] == {"name": "$XLTV_IMAGE", "entrypoint": [""]}
    assert job["needs"] == UNIT_TESTS_NEED
    assert job["when"] == "always"
    assert job["script"] == ["xltv upload"]
    assert job["artifacts"] == DOTENV_ARTIFACTS
    assert job["variables"] == {
        "XLTV_IMAGE": DEFAULT_IMAGE,
        "XLTV_DOTENV_FILE": "xltestview.env",
        "XLTV_SERVER_URL": "http://127.0.0.1:8080",
        "XLTV_TEST_SPECIFICATION": "unit tests",
        "XLTV_INCLUDE": "**/TEST-*.xml",
    }


def test_template_variables_are_settings() -> None:
    """Every XLTV_ variable the templates set is a setting of `xltv upload`, or the image."""
    variables_by_name = {setting.variable: name for name, setting in SETTINGS_BY_NAME.items()}
    spec, component_jobs = yaml.safe_load_all(COMPONENT.read_text(encoding="utf-8"))
    classic_jobs = yaml.safe_load(CLASSIC_INCLUDE.read_text(encoding="utf-8"))
    component_variables = component_jobs["$[[ inputs.job-name ]]"]["variables"]
    classic_variables = classic_jobs[".xltestview-upload"]["variables"]

    for variable in [*component_variables, *classic_variables]:
        assert variable in variables_by_name or variable == "XLTV_IMAGE", variable

    # An input and the setting it feeds have the same name.
    for variable, value in component_variables.items():
        match = re.fullmatch(r"\$\[\[ inputs\.([\w-]+) \]\]", value)
        if match is not None:
            assert match.group(1) == variables_by_name[variable]
            assert match.group(1) in spec["spec"]["inputs"]
