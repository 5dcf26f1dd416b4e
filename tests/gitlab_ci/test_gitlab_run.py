"""Pipelines that include the GitLab templates, run by gitlab-ci-local's shell executor.

The upload job names the project's image, which does not exist on this machine, so
`--force-shell-executor` runs it on the host. There `xltv` is the command of the virtual
environment running the tests, and the job sends real result files to a local stand-in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .pipeline import PROJECT_PATH, Pipeline

pytestmark = pytest.mark.slow

RUNNER_DESCRIPTION = "shared runner 7"

# Surefire-style JUnit reports, one passing and one failing test.
PASSING_REPORT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.CalculatorTest" tests="2" failures="0" errors="0" skipped="0"
           time="0.012" timestamp="2024-05-02T10:15:30">
  <testcase name="addsTwoNumbers" classname="com.example.CalculatorTest" time="0.004"/>
  <testcase name="dividesByOne" classname="com.example.CalculatorTest" time="0.002"/>
</testsuite>
"""
FAILING_REPORT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.ParserTest" tests="1" failures="1" errors="0" skipped="0"
           time="0.020" timestamp="2024-05-02T10:15:31">
  <testcase name="parsesEmptyInput" classname="com.example.ParserTest" time="0.020">
    <failure message="expected [] but was null" type="java.lang.AssertionError">
java.lang.AssertionError: expected [] but was null
    at com.example.ParserTest.parsesEmptyInput(ParserTest.java:21)
    </failure>
  </testcase>
</testsuite>
"""
RESULT_FILES = {
    "fixtures/TEST-com.example.CalculatorTest.xml": PASSING_REPORT,
    "fixtures/TEST-com.example.ParserTest.xml": FAILING_REPORT,
}
IMPORTED_FILES = {
    "build/test-results/TEST-com.example.CalculatorTest.xml": PASSING_REPORT.encode(),
    "build/test-results/TEST-com.example.ParserTest.xml": FAILING_REPORT.encode(),
}

# Every job records its CI_ variables, so the test can compare the metadata with them.
RECORD_VARIABLES = """\
default:
  before_script:
    - env | grep '^CI_' > "ci-variables-$CI_JOB_NAME.txt"
"""

# The test job copies the reports into place and fails, as a run with a failing test does.
FAILING_TEST_JOB = """\
unit-tests:
  stage: test
  script:
    - mkdir -p build/test-results
    - cp fixtures/*.xml build/test-results/
    - echo "1 of 3 tests failed"
    - exit 1
"""

# A later job reads the outputs of the upload from the dotenv report.
SHOW_OUTPUTS_JOB = """\
show-outputs:
  stage: report
  needs: [{upload_job}]
  when: always
  script:
    - echo "imported test run [$XLTV_TEST_RUN_ID] with status [$XLTV_STATUS]"
"""


def run_pipeline(pipeline: Pipeline, password: str) -> tuple[int, str]:
    """Run every job of the pipeline as GitLab would, on this machine's shell."""
    result = pipeline.run(
        "--force-shell-executor",
        variables={
            # The shell executor keeps the container path /builds/... otherwise.
            "CI_PROJECT_DIR": str(pipeline.folder),
            # gitlab-ci-local sets false on purpose, but a GitLab runner sets true.
            "GITLAB_CI": "true",
            "CI_RUNNER_DESCRIPTION": RUNNER_DESCRIPTION,
            "XLTV_PASSWORD": password,
        },
    )
    return result.returncode, result.stdout + result.stderr


def job_variables(pipeline: Pipeline, job_name: str) -> dict[str, str]:
    text = (pipeline.folder / f"ci-variables-{job_name}.txt").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def gitlab_metadata(variables: dict[str, str]) -> dict[str, str]:
    """Return the metadata the GitLab mapping builds from a job's variables."""
    return {
        "source": "gitlab-ci",
        "ciServerUrl": variables["CI_SERVER_URL"],
        "ciJobName": f"{variables['CI_PROJECT_PATH']}/{variables['CI_JOB_NAME']}",
        "ciJobUrl": variables["CI_JOB_URL"],
        "ciBuildNumber": variables["CI_PIPELINE_IID"],
        "ciBuildUrl": variables["CI_PIPELINE_URL"],
        "ciExecutedOn": RUNNER_DESCRIPTION,
    }


def read_dotenv(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def imported_run(stand_in: Any) -> dict[str, Any]:
    """Return the one run the stand-in stored, after checking it holds the result files."""
    runs = stand_in.runs()
    assert len(runs) == 1
    run: dict[str, Any] = runs[0]
    assert run["files"] == IMPORTED_FILES
    return run


def check_variables(variables: dict[str, str], job_name: str) -> None:
    """Check that the job saw the variables the metadata is compared with."""
    assert variables["CI_JOB_NAME"] == job_name
    assert variables["CI_PROJECT_PATH"] == PROJECT_PATH
    assert variables["CI_SERVER_URL"] == "http://127.0.0.1:80"
    assert variables["CI_JOB_URL"].startswith(f"http://127.0.0.1:80/{PROJECT_PATH}/-/jobs/")


def test_component_job_imports_results(
    make_pipeline: Callable[..., Pipeline], stand_in: Any
) -> None:
    pipeline_yaml = (
        "stages: [test, report]\n"
        + RECORD_VARIABLES
        + FAILING_TEST_JOB
        + SHOW_OUTPUTS_JOB.format(upload_job="xltestview-upload")
        + f"""\
include:
  - local: templates/xltestview.yml
    inputs:
      needs: [unit-tests]
      server-url: {stand_in.url}
      username: {stand_in.username}
      test-specification: unit tests
      include: build/test-results/TEST-*.xml
      metadata: |
        branch: $CI_COMMIT_REF_NAME
        team: core
"""
    )
    pipeline = make_pipeline(pipeline_yaml, RESULT_FILES)

    code, output = run_pipeline(pipeline, stand_in.password)

    # The failing test job fails the pipeline, but the upload runs because of `when: always`.
    assert code != 0, output
    assert "FAIL  unit-tests" in output
    assert "PASS  xltestview-upload" in output
    assert "PASS  show-outputs" in output
    assert stand_in.password not in output

    run = imported_run(stand_in)
    variables = job_variables(pipeline, "xltestview-upload")
    check_variables(variables, "xltestview-upload")
    # In `script`, CI_JOB_STATUS is "running", which is no test result.
    assert variables["CI_JOB_STATUS"] == "running"
    assert run["metadata"] == {
        **gitlab_metadata(variables),
        "branch": "main",
        "team": "core",
    }

    dotenv = read_dotenv(pipeline.folder / "xltestview.env")
    assert dotenv["XLTV_TEST_RUN_ID"] == run["id"]
    assert dotenv["XLTV_STATUS"] == "imported"
    assert dotenv["XLTV_FILES"] == "2"
    assert f"imported test run [{run['id']}] with status [imported]" in output


def test_component_passes_build_result(
    make_pipeline: Callable[..., Pipeline], stand_in: Any
) -> None:
    """The test job hands its result to the upload job through a dotenv report."""
    pipeline_yaml = (
        "stages: [test, report]\n"
        + FAILING_TEST_JOB
        + """\
  after_script:
    - echo "TEST_JOB_STATUS=$CI_JOB_STATUS" > test-status.env
  artifacts:
    when: always
    reports:
      dotenv: test-status.env
"""
        + f"""\
include:
  - local: templates/xltestview.yml
    inputs:
      job-name: import-results
      stage: report
      needs: [unit-tests]
      server-url: {stand_in.url}
      username: {stand_in.username}
      test-specification: unit tests
      include: "**/TEST-*.xml"
      exclude: fixtures/**
      build-result: $TEST_JOB_STATUS
"""
    )
    pipeline = make_pipeline(pipeline_yaml, RESULT_FILES)

    code, output = run_pipeline(pipeline, stand_in.password)

    assert code != 0, output
    assert "PASS  import-results" in output
    run = imported_run(stand_in)
    assert run["metadata"]["ciBuildResult"] == "FAILURE"
    assert run["metadata"]["ciJobName"] == f"{PROJECT_PATH}/import-results"


def test_classic_include_job_imports_results(
    make_pipeline: Callable[..., Pipeline], stand_in: Any
) -> None:
    pipeline_yaml = (
        "stages: [test, report]\n"
        + RECORD_VARIABLES
        + FAILING_TEST_JOB
        + SHOW_OUTPUTS_JOB.format(upload_job="xltestview")
        + f"""\
include:
  - local: gitlab/xltestview.gitlab-ci.yml
xltestview:
  extends: .xltestview-upload
  needs: [unit-tests]
  variables:
    XLTV_SERVER_URL: {stand_in.url}
    XLTV_USERNAME: {stand_in.username}
    XLTV_TEST_SPECIFICATION: unit tests
    XLTV_INCLUDE: build/test-results/TEST-*.xml
    XLTV_METADATA: "commit=$CI_COMMIT_SHORT_SHA"
"""
    )
    pipeline = make_pipeline(pipeline_yaml, RESULT_FILES)

    code, output = run_pipeline(pipeline, stand_in.password)

    assert code != 0, output
    assert "FAIL  unit-tests" in output
    assert "PASS  xltestview" in output
    assert "PASS  show-outputs" in output
    assert stand_in.password not in output

    run = imported_run(stand_in)
    variables = job_variables(pipeline, "xltestview")
    check_variables(variables, "xltestview")
    assert run["metadata"] == {
        **gitlab_metadata(variables),
        "commit": variables["CI_COMMIT_SHORT_SHA"],
    }

    dotenv = read_dotenv(pipeline.folder / "xltestview.env")
    assert dotenv["XLTV_TEST_RUN_ID"] == run["id"]
    assert dotenv["XLTV_STATUS"] == "imported"
    assert f"imported test run [{run['id']}] with status [imported]" in output


def test_after_script_sends_job_result(
    make_pipeline: Callable[..., Pipeline], stand_in: Any
) -> None:
    """The upload in the test job's after_script reads the job's result from CI_JOB_STATUS."""
    pipeline_yaml = (
        "stages: [test, report]\n"
        + SHOW_OUTPUTS_JOB.format(upload_job="unit-tests")
        + f"""\
include:
  - local: gitlab/xltestview.gitlab-ci.yml
unit-tests:
  stage: test
  variables:
    XLTV_SERVER_URL: {stand_in.url}
    XLTV_USERNAME: {stand_in.username}
    XLTV_TEST_SPECIFICATION: unit tests
    XLTV_INCLUDE: build/test-results/TEST-*.xml
    XLTV_DOTENV_FILE: xltestview.env
  script:
    - mkdir -p build/test-results
    - cp fixtures/*.xml build/test-results/
    - exit 1
  after_script:
    - env | grep '^CI_' > ci-variables-after-script.txt
    - !reference [.xltestview-upload, script]
  artifacts:
    when: always
    reports:
      dotenv: xltestview.env
"""
    )
    pipeline = make_pipeline(pipeline_yaml, RESULT_FILES)

    code, output = run_pipeline(pipeline, stand_in.password)

    assert code != 0, output
    assert "FAIL  unit-tests" in output
    assert stand_in.password not in output

    run = imported_run(stand_in)
    variables = job_variables(pipeline, "after-script")
    check_variables(variables, "unit-tests")
    assert variables["CI_JOB_STATUS"] == "failed"
    assert run["metadata"] == {**gitlab_metadata(variables), "ciBuildResult": "FAILURE"}

    dotenv = read_dotenv(pipeline.folder / "xltestview.env")
    assert dotenv["XLTV_TEST_RUN_ID"] == run["id"]
    assert f"imported test run [{run['id']}] with status [imported]" in output
