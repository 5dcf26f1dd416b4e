"""Fixtures of the container tests: the engine that .ci/docker-up started, and its images."""

from __future__ import annotations

from pathlib import Path

import pytest

from container.github_runner import DOCKER_HOST, IMAGE, RunnerLayout, docker


@pytest.fixture(scope="session", autouse=True)
def engine() -> None:
    """Fail early, with the fix, when the engine or the image is missing."""
    version = docker("version", "--format", "{{.Server.Version}}", timeout=30)
    if version.returncode != 0:
        pytest.fail(
            f"no Docker engine answers at {DOCKER_HOST}: {version.stderr.strip()}; "
            "run `make test-container`, which starts one with .ci/docker-up"
        )
    image = docker("image", "inspect", IMAGE, timeout=30)
    if image.returncode != 0:
        pytest.fail(f"image {IMAGE} not found; build it with .ci/docker-up")


@pytest.fixture
def layout(tmp_path: Path) -> RunnerLayout:
    """The runner's folders, with the workspace holding two JUnit files and a README."""
    runner = RunnerLayout(tmp_path / "work")
    runner.create()
    results = runner.workspace / "build" / "test-results"
    results.mkdir(parents=True)
    (results / "TEST-app.AppTest.xml").write_text(
        '<?xml version="1.0"?>\n<testsuite name="app.AppTest" tests="1"><testcase '
        'name="works"/></testsuite>\n'
    )
    (results / "TEST-app.OtherTest.xml").write_text(
        '<?xml version="1.0"?>\n<testsuite name="app.OtherTest" tests="1" failures="1">'
        '<testcase name="fails"><failure message="no"/></testcase></testsuite>\n'
    )
    (runner.workspace / "README.md").write_text("not a result\n")
    return runner
