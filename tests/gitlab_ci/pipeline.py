"""Run a pipeline in a git repository with gitlab-ci-local, GitLab's pipeline emulator.

`.ci/install-gitlab-ci-local` installs the emulator into `.tools/`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
GITLAB_CI_LOCAL = REPOSITORY / ".tools" / "node_modules" / ".bin" / "gitlab-ci-local"
COMPONENT = REPOSITORY / "templates" / "xltestview.yml"
CLASSIC_INCLUDE = REPOSITORY / "gitlab" / "xltestview.gitlab-ci.yml"

# gitlab-ci-local derives CI_SERVER_URL, CI_PROJECT_PATH and the job URLs from the remote.
# A loopback address keeps every derived URL on this machine. Nothing connects to it.
REMOTE_URL = "http://127.0.0.1/xltv-tests/sample.git"
PROJECT_PATH = "xltv-tests/sample"

# Variables of the outer environment that would leak into the jobs and change the upload.
LEAKING_PREFIXES = ("XLTV_", "INPUT_", "GITHUB_", "CI_", "GITLAB_", "RUNNER_")


@dataclass
class Pipeline:
    """A git repository with a `.gitlab-ci.yml`, run by gitlab-ci-local."""

    folder: Path
    home: Path
    state: Path

    def run(
        self,
        *arguments: str,
        variables: Mapping[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run gitlab-ci-local in the repository and return its exit code and output."""
        # The state folder contains copies of the project, which patterns such as
        # **/TEST-*.xml would find if it were inside the project. gitlab-ci-local 4.73.0
        # takes it only as a path relative to the project.
        command = [str(GITLAB_CI_LOCAL), "--no-color", "--home", str(self.home)]
        command += ["--state-dir", os.path.relpath(self.state, self.folder)]
        predefined = [name for name in variables or {} if name.startswith(("CI_", "GITLAB_"))]
        if predefined:
            # Tests override predefined variables on purpose, to the values a runner sets.
            command += ["--ignore-predefined-vars", ",".join(predefined)]
        for name, value in (variables or {}).items():
            command += ["--variable", f"{name}={value}"]
        command += arguments
        return subprocess.run(
            command,
            cwd=self.folder,
            env=job_environment(self.home),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def job_environment(home: Path) -> dict[str, str]:
    """Return the environment for gitlab-ci-local: the test venv's bin first on PATH.

    The shell executor passes this environment on to the jobs, so `xltv` in a job is the
    command installed in the virtual environment that runs the tests.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(LEAKING_PREFIXES) and name != "CI"
    }
    venv_bin = str(Path(sys.executable).parent)
    environment["PATH"] = venv_bin + os.pathsep + environment.get("PATH", "")
    environment["HOME"] = str(home)
    return environment


def git(folder: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@127.0.0.1", *arguments],
        cwd=folder,
        check=True,
        capture_output=True,
    )
