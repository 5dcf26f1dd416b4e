"""Start the action's image the way the GitHub runner starts a Docker action.

The flags, mounts and variable rewriting follow actions/runner 2.33x. Every declared input
is passed as a hyphenated INPUT_ variable, by name only, with the value taken from the
environment of `docker run`. Five runner folders are mounted under /github. A variable
whose value equals or starts with a mounted host path is rewritten to the container path.
The one difference is `--network host` in place of the job's network, so the container
reaches the stand-in server on loopback.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/cache/xltv-docker/docker.sock")
IMAGE = os.environ.get("XLTV_TEST_IMAGE", "xltv-action:test")
BASE_IMAGE = os.environ.get("XLTV_BASE_IMAGE", "local/debian-python:bookworm")
RUNNER_IMAGE = os.environ.get("XLTV_RUNNER_IMAGE", "local/act-runner:bookworm")
REPOSITORY = "example-org/demo"


class Server(Protocol):
    """The parts of the `stand_in` fixture (tests/conftest.py) that these tests use."""

    url: str
    data: Path
    username: str
    password: str

    def runs(self) -> list[dict[str, Any]]: ...


def docker_command() -> str:
    """Return the client of the docker.io package, whose API version matches the engine."""
    return "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"


def docker(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker_command(), *arguments],
        env={**os.environ, "DOCKER_HOST": DOCKER_HOST},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def action_inputs() -> dict[str, Any]:
    document = yaml.safe_load((REPO / "action.yml").read_text())
    inputs: dict[str, Any] = document["inputs"]
    return inputs


@dataclass
class RunnerLayout:
    """The runner's folders on the host, laid out as on a hosted runner (_work/<repo>/...)."""

    work: Path

    @property
    def runner_workspace(self) -> Path:
        return self.work / "demo"

    @property
    def workspace(self) -> Path:
        return self.runner_workspace / "demo"

    @property
    def temp(self) -> Path:
        return self.work / "_temp"

    @property
    def file_commands(self) -> Path:
        return self.temp / "_runner_file_commands"

    def mounts(self) -> list[tuple[Path, str]]:
        """Return the runner's mounts as (host folder, container folder), in its order."""
        return [
            (self.temp, "/github/runner_temp"),
            (self.temp / "_github_home", "/github/home"),
            (self.temp / "_github_workflow", "/github/workflow"),
            (self.file_commands, "/github/file_commands"),
            (self.workspace, "/github/workspace"),
        ]

    def create(self) -> None:
        for host, _ in self.mounts():
            host.mkdir(parents=True, exist_ok=True)
        (self.temp / "_github_workflow" / "event.json").write_text("{}\n")


@dataclass
class StepResult:
    """One run of the action's container: exit code, the merged log and the two files."""

    code: int
    log: str
    outputs: dict[str, str]
    summary: str


def to_container(value: str, layout: RunnerLayout) -> str:
    """Rewrite a value that equals or starts with a mounted host path, as the runner does."""
    # The longest host path first, so that a subfolder's own mount wins over its parent's.
    for host, container in sorted(layout.mounts(), key=lambda pair: -len(str(pair[0]))):
        if value == str(host) or value.startswith(str(host) + "/"):
            return container + value[len(str(host)) :]
    return value


def parse_outputs(text: str) -> dict[str, str]:
    """Parse the runner's output file: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value_lines = []
            while lines[index] != delimiter:
                value_lines.append(lines[index])
                index += 1
            index += 1
            outputs[name] = "\n".join(value_lines)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def run_action(
    layout: RunnerLayout,
    inputs: dict[str, str],
    job_status: str = "success",
    extra_env: dict[str, str] | None = None,
) -> StepResult:
    """Run the image with the runner's `docker run` and return what the step produced."""
    layout.create()
    step_id = uuid.uuid4().hex
    output_file = layout.file_commands / f"set_output_{step_id}"
    summary_file = layout.file_commands / f"step_summary_{step_id}"
    output_file.write_text("")
    summary_file.write_text("")

    # Every declared input is passed, with the action's default where the step gives none.
    environment: dict[str, str] = {}
    for name, spec in action_inputs().items():
        value = inputs.get(name, str(spec.get("default", "")))
        value = value.replace("${{ job.status }}", job_status)
        environment["INPUT_" + name.upper().replace(" ", "_")] = value
    unknown = set(inputs) - set(action_inputs())
    assert not unknown, f"inputs not declared in action.yml: {unknown}"

    environment.update(
        {
            "HOME": str(layout.temp / "_github_home"),
            "GITHUB_JOB": "test",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_REPOSITORY_OWNER": REPOSITORY.split("/")[0],
            "GITHUB_RUN_ID": "4242",
            "GITHUB_RUN_NUMBER": "17",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_WORKFLOW": "CI",
            "GITHUB_WORKFLOW_REF": f"{REPOSITORY}/.github/workflows/ci.yml@refs/heads/main",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "https://api.github.com",
            "GITHUB_WORKSPACE": str(layout.workspace),
            "GITHUB_EVENT_PATH": str(layout.temp / "_github_workflow" / "event.json"),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "GITHUB_ACTION": "xltv",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_NAME": "GitHub Actions 2",
            "RUNNER_TEMP": str(layout.temp),
            "RUNNER_WORKSPACE": str(layout.runner_workspace),
            "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
        }
    )
    environment.update(extra_env or {})
    environment = {name: to_container(value, layout) for name, value in environment.items()}
    environment.update({"GITHUB_ACTIONS": "true", "CI": "true"})

    command = [docker_command(), "run", "--name", f"xltv-step-{step_id[:12]}"]
    command += ["--label", "xltv-test", "--workdir", "/github/workspace", "--rm"]
    for name in environment:
        command += ["-e", name]
    # The runner also mounts /var/run/docker.sock. Mounting it when no engine listens there
    # would create an empty folder at that path on the host, so it is mounted only if present.
    if Path("/var/run/docker.sock").is_socket():
        command += ["-v", "/var/run/docker.sock:/var/run/docker.sock"]
    for host, container in layout.mounts():
        command += ["-v", f"{host}:{container}"]
    command += ["--network", "host", IMAGE]

    completed = subprocess.run(
        command,
        env={"PATH": os.environ["PATH"], "DOCKER_HOST": DOCKER_HOST, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    return StepResult(
        code=completed.returncode,
        log=completed.stdout,
        outputs=parse_outputs(output_file.read_text()),
        summary=summary_file.read_text(),
    )
