"""CI detection and the mapping of CI variables to metadata keys."""

from __future__ import annotations

import json
import socket
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from xltv.errors import SettingsError
from xltv.metadata import (
    detect,
    detect_metadata,
    load_providers,
    normalize_build_result,
    packaged_providers,
)

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "octo-org/octo-repo",
    "GITHUB_WORKFLOW": "CI",
    "GITHUB_JOB": "test",
    "GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/feature/x",
    "GITHUB_RUN_NUMBER": "42",
    "GITHUB_RUN_ID": "1234567",
    "GITHUB_RUN_ATTEMPT": "2",
    "RUNNER_NAME": "GitHub Actions 7",
}

GITLAB = {
    "GITLAB_CI": "true",
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_PROJECT_PATH": "group/project",
    "CI_JOB_NAME": "unit tests",
    "CI_JOB_URL": "https://gitlab.example.com/group/project/-/jobs/99",
    "CI_PIPELINE_IID": "17",
    "CI_PIPELINE_URL": "https://gitlab.example.com/group/project/-/pipelines/555",
    "CI_RUNNER_DESCRIPTION": "shared-runner-3",
}

JENKINS = {
    "JENKINS_URL": "https://jenkins.example.com/",
    "BUILD_NUMBER": "8",
    "JOB_NAME": "folder/app",
    "JOB_URL": "https://jenkins.example.com/job/folder/job/app/",
    "BUILD_URL": "https://jenkins.example.com/job/folder/job/app/8/",
    "NODE_NAME": "agent-2",
}


def metadata_for(environ: dict[str, str], build_result: str | None = None) -> dict[str, str]:
    provider = detect(packaged_providers(), environ)
    return detect_metadata(provider, environ, build_result)


def test_packaged_providers_match_schema() -> None:
    schema = json.loads(
        resources.files("xltv").joinpath("schemas/providers.schema.json").read_text()
    )
    document = yaml.safe_load(resources.files("xltv").joinpath("providers.yml").read_text())

    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


def test_github_actions_keys() -> None:
    assert metadata_for(GITHUB, "success") == {
        "source": "github-actions",
        "ciServerUrl": "https://github.com",
        "ciJobName": "octo-org/octo-repo/CI/test",
        "ciJobUrl": "https://github.com/octo-org/octo-repo/actions/workflows/ci.yml",
        "ciBuildNumber": "42",
        "ciBuildUrl": "https://github.com/octo-org/octo-repo/actions/runs/1234567/attempts/2",
        "ciExecutedOn": "GitHub Actions 7",
        "ciBuildResult": "SUCCESS",
    }


def test_github_build_url_without_attempt() -> None:
    environ = {key: value for key, value in GITHUB.items() if key != "GITHUB_RUN_ATTEMPT"}

    metadata = metadata_for(environ)

    assert metadata["ciBuildUrl"] == "https://github.com/octo-org/octo-repo/actions/runs/1234567"
    assert "ciBuildResult" not in metadata


def test_gitlab_keys() -> None:
    assert metadata_for({**GITLAB, "CI_JOB_STATUS": "failed"}) == {
        "source": "gitlab-ci",
        "ciServerUrl": "https://gitlab.example.com",
        "ciJobName": "group/project/unit tests",
        "ciJobUrl": "https://gitlab.example.com/group/project/-/jobs/99",
        "ciBuildNumber": "17",
        "ciBuildUrl": "https://gitlab.example.com/group/project/-/pipelines/555",
        "ciExecutedOn": "shared-runner-3",
        "ciBuildResult": "FAILURE",
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [("success", "SUCCESS"), ("failed", "FAILURE"), ("canceled", "ABORTED"), ("running", None)],
)
def test_gitlab_job_status(status: str, expected: str | None) -> None:
    metadata = metadata_for({**GITLAB, "CI_JOB_STATUS": status})

    assert metadata.get("ciBuildResult") == expected


def test_gitlab_build_result_setting_wins() -> None:
    metadata = metadata_for({**GITLAB, "CI_JOB_STATUS": "success"}, "failure")

    assert metadata["ciBuildResult"] == "FAILURE"


def test_jenkins_keys() -> None:
    assert metadata_for(JENKINS, "cancelled") == {
        "source": "jenkins",
        "ciServerUrl": "https://jenkins.example.com/",
        "ciJobName": "folder/app",
        "ciJobUrl": "https://jenkins.example.com/job/folder/job/app/",
        "ciBuildNumber": "8",
        "ciBuildUrl": "https://jenkins.example.com/job/folder/job/app/8/",
        "ciExecutedOn": "agent-2",
        "ciBuildResult": "ABORTED",
    }


def test_jenkins_needs_build_number() -> None:
    metadata = metadata_for({"JENKINS_URL": "https://jenkins.example.com/"})

    assert metadata["source"] == "local"


def test_no_ci_is_local_with_host_name() -> None:
    assert metadata_for({}) == {"source": "local", "ciExecutedOn": socket.gethostname()}


def test_missing_variables_leave_keys_out() -> None:
    metadata = metadata_for({"GITHUB_ACTIONS": "true", "GITHUB_RUN_NUMBER": "3"})

    assert metadata == {"source": "github-actions", "ciBuildNumber": "3"}


def test_empty_variable_counts_as_missing() -> None:
    metadata = metadata_for({**GITLAB, "CI_RUNNER_DESCRIPTION": ""})

    assert "ciExecutedOn" not in metadata


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("success", "SUCCESS"),
        ("Success", "SUCCESS"),
        ("failure", "FAILURE"),
        ("failed", "FAILURE"),
        ("cancelled", "ABORTED"),
        ("canceled", "ABORTED"),
        ("UNSTABLE", "UNSTABLE"),
        ("skipped", "skipped"),
    ],
)
def test_normalize_build_result(given: str, expected: str) -> None:
    assert normalize_build_result(given) == expected


def test_user_providers_override_and_add(tmp_path: Path) -> None:
    providers_file = tmp_path / "providers.yml"
    providers_file.write_text(
        """
providers:
  - id: jenkins
    name: Our Jenkins
    detect: {set: [JENKINS_URL]}
    source: our-jenkins
    metadata:
      ciBuildNumber: ${BUILD_NUMBER}
  - id: buildkite
    name: Buildkite
    docs: https://buildkite.com/docs/pipelines/environment-variables
    detect: {equals: {BUILDKITE: "true"}}
    source: buildkite
    metadata:
      ciBuildNumber: ${BUILDKITE_BUILD_NUMBER}
      ciBuildUrl: ${BUILDKITE_BUILD_URL}
"""
    )
    providers = load_providers(providers_file)

    buildkite = detect(providers, {"BUILDKITE": "true", "BUILDKITE_BUILD_NUMBER": "5"})
    jenkins = detect(providers, {"JENKINS_URL": "https://j/", "BUILD_NUMBER": "9"})

    assert [provider.id for provider in providers][:2] == ["jenkins", "buildkite"]
    assert [provider.id for provider in providers].count("jenkins") == 1
    assert detect_metadata(buildkite, {"BUILDKITE_BUILD_NUMBER": "5"}, None) == {
        "source": "buildkite",
        "ciBuildNumber": "5",
    }
    assert jenkins is not None
    assert jenkins.source == "our-jenkins"


def test_user_providers_validated(tmp_path: Path) -> None:
    providers_file = tmp_path / "providers.yml"
    providers_file.write_text("providers:\n  - id: x\n    name: X\n    source: x\n")

    with pytest.raises(SettingsError) as raised:
        load_providers(providers_file)

    assert str(raised.value).startswith(f"invalid providers file {providers_file}: at providers[0]")
    assert "'detect' is a required property" in str(raised.value)


def test_user_providers_reject_reserved_key(tmp_path: Path) -> None:
    providers_file = tmp_path / "providers.yml"
    providers_file.write_text(
        "providers:\n  - {id: x, name: X, source: x, detect: {}, metadata: {'@id': a}}\n"
    )

    with pytest.raises(SettingsError, match=r"at providers\[0\]\.metadata"):
        load_providers(providers_file)
