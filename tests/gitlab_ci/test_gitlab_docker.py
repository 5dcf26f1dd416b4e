"""The GitLab templates' upload job run by gitlab-ci-local's Docker executor, in the image.

Needs a Docker engine and the locally built project image, named by DOCKER_HOST and
XLTV_TEST_IMAGE (`make test-container` sets both). gitlab-ci-local copies files in and out
with a helper container; the tests build its image from helper.Dockerfile on the local
base image XLTV_BASE_IMAGE (default local/debian-python:bookworm). Nothing is pulled. The
job container shares the host's network, so it reaches the stand-in on loopback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .pipeline import PROJECT_PATH, Pipeline

HELPER_DOCKERFILE = Path(__file__).with_name("helper.Dockerfile")
HELPER_IMAGE = "xltv-gitlab-helper:test"

pytestmark = pytest.mark.container

PASSING_REPORT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.CalculatorTest" tests="1" failures="0" errors="0" time="0.004">
  <testcase name="addsTwoNumbers" classname="com.example.CalculatorTest" time="0.004"/>
</testsuite>
"""
FAILING_REPORT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.ParserTest" tests="1" failures="1" errors="0" time="0.020">
  <testcase name="parsesEmptyInput" classname="com.example.ParserTest" time="0.020">
    <failure message="expected [] but was null" type="java.lang.AssertionError"/>
  </testcase>
</testsuite>
"""
RESULT_FILES = {
    "build/test-results/TEST-com.example.CalculatorTest.xml": PASSING_REPORT,
    "build/test-results/TEST-com.example.ParserTest.xml": FAILING_REPORT,
}
IMPORTED_FILES = {name: text.encode() for name, text in RESULT_FILES.items()}

# A later job, on the host's shell, reads the outputs from the dotenv report.
SHOW_OUTPUTS_JOB = """\
show-outputs:
  stage: report
  needs: [{upload_job}]
  script:
    - echo "imported test run [$XLTV_TEST_RUN_ID] with status [$XLTV_STATUS]"
"""


def required_environment(name: str, purpose: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(
            f"{name} is not set; set it to {purpose}, or run make test-container",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="module")
def docker_images() -> tuple[str, str]:
    """Return the project image and the helper image, building the helper image."""
    required_environment("DOCKER_HOST", "the socket of the Docker engine, unix:///PATH")
    image = required_environment("XLTV_TEST_IMAGE", "the tag of the locally built image")
    base_image = os.environ.get("XLTV_BASE_IMAGE", "local/debian-python:bookworm")
    for name in (image, base_image):
        inspected = docker("image", "inspect", name)
        if inspected.returncode != 0:
            pytest.fail(
                f"image {name} not found at DOCKER_HOST={os.environ['DOCKER_HOST']}: "
                f"{inspected.stderr.strip()}; build it with .ci/docker-up",
                pytrace=False,
            )

    # apt-get in the build reaches Debian's mirror only through the host's network.
    built = docker(
        "build",
        "--quiet",
        "--network",
        "host",
        "--build-arg",
        f"BASE_IMAGE={base_image}",
        "--tag",
        HELPER_IMAGE,
        "--file",
        str(HELPER_DOCKERFILE),
        str(HELPER_DOCKERFILE.parent),
    )
    if built.returncode != 0:
        pytest.fail(f"building {HELPER_IMAGE} failed: {built.stderr.strip()}", pytrace=False)
    return image, HELPER_IMAGE


def docker(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker_client(), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def docker_client() -> str:
    """Return Debian's docker client, whose API version matches Debian's engine."""
    if os.path.exists("/usr/bin/docker"):
        return "/usr/bin/docker"
    return shutil.which("docker") or "docker"


def run_in_docker(pipeline: Pipeline, helper_image: str, password: str) -> tuple[int, str]:
    result = pipeline.run(
        "--container-executable",
        docker_client(),
        "--helper-image",
        helper_image,
        "--pull-policy",
        "if-not-present",
        "--network",
        "host",
        variables={
            "GITLAB_CI": "true",
            "XLTV_PASSWORD": password,
        },
    )
    return result.returncode, result.stdout + result.stderr


def check_import(stand_in: Any, job_name: str, output: str) -> None:
    runs = stand_in.runs()
    assert len(runs) == 1, output
    run = runs[0]
    assert run["files"] == IMPORTED_FILES
    assert run["metadata"]["source"] == "gitlab-ci"
    assert run["metadata"]["ciJobName"] == f"{PROJECT_PATH}/{job_name}"
    assert run["metadata"]["ciJobUrl"].startswith(f"http://127.0.0.1:80/{PROJECT_PATH}/-/jobs/")
    assert f"imported test run [{run['id']}] with status [imported]" in output
    assert stand_in.password not in output


def test_component_job_runs_in_image(
    make_pipeline: Callable[..., Pipeline], stand_in: Any, docker_images: tuple[str, str]
) -> None:
    image, helper_image = docker_images
    pipeline_yaml = (
        "stages: [test, report]\n"
        + "unit-tests:\n  stage: test\n  script: echo tested\n"
        + SHOW_OUTPUTS_JOB.format(upload_job="xltestview-upload")
        + f"""\
include:
  - local: templates/xltestview.yml
    inputs:
      needs: [unit-tests]
      image: {image}
      server-url: {stand_in.url}
      username: {stand_in.username}
      test-specification: unit tests
      include: build/test-results/TEST-*.xml
"""
    )
    pipeline = make_pipeline(pipeline_yaml, RESULT_FILES)

    code, output = run_in_docker(pipeline, helper_image, stand_in.password)

    assert code == 0, output
    assert re.search(rf"^xltestview-upload +starting {re.escape(image)} ", output, re.MULTILINE)
    check_import(stand_in, "xltestview-upload", output)


def test_classic_include_job_runs_in_image(
    make_pipeline: Callable[..., Pipeline], stand_in: Any, docker_images: tuple[str, str]
) -> None:
    image, helper_image = docker_images
    pipeline_yaml = (
        "stages: [test, report]\n"
        + "unit-tests:\n  stage: test\n  script: echo tested\n"
        + SHOW_OUTPUTS_JOB.format(upload_job="xltestview")
        + f"""\
include:
  - local: gitlab/xltestview.gitlab-ci.yml
xltestview:
  extends: .xltestview-upload
  needs: [unit-tests]
  variables:
    XLTV_IMAGE: {image}
    XLTV_SERVER_URL: {stand_in.url}
    XLTV_USERNAME: {stand_in.username}
    XLTV_TEST_SPECIFICATION: unit tests
    XLTV_INCLUDE: build/test-results/TEST-*.xml
"""
    )
    pipeline = make_pipeline(pipeline_yaml, RESULT_FILES)

    code, output = run_in_docker(pipeline, helper_image, stand_in.password)

    assert code == 0, output
    assert re.search(rf"^xltestview +starting {re.escape(image)} ", output, re.MULTILINE)
    check_import(stand_in, "xltestview", output)
