"""Host paths translated into the paths of a GitHub Docker action's container."""

from __future__ import annotations

import pytest

from xltv.errors import SettingsError
from xltv.github import container_path, container_pattern, host_mounts, in_container_action

HOST_WORKSPACE = "/home/runner/work/demo/demo"

# The variables of a Docker action on a hosted runner since runner 2.329 (RUNNER_TEMP rewritten).
CONTAINER_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_WORKSPACE": "/github/workspace",
    "GITHUB_REPOSITORY": "example-org/demo",
    "RUNNER_WORKSPACE": "/home/runner/work/demo",
    "RUNNER_TEMP": "/github/runner_temp",
}


def test_detects_container_action() -> None:
    assert in_container_action(CONTAINER_ENV)


def test_run_step_is_no_container_action() -> None:
    environ = {**CONTAINER_ENV, "GITHUB_WORKSPACE": HOST_WORKSPACE}
    assert not in_container_action(environ)


def test_mounts_from_runner_layout() -> None:
    assert host_mounts(CONTAINER_ENV) == [
        (HOST_WORKSPACE, "/github/workspace"),
        ("/home/runner/work/_temp", "/github/runner_temp"),
    ]


def test_mounts_with_old_runner_temp() -> None:
    environ = {**CONTAINER_ENV, "RUNNER_TEMP": "/srv/runner/_work/_temp"}
    assert host_mounts(environ)[1] == ("/srv/runner/_work/_temp", "/github/runner_temp")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (HOST_WORKSPACE, "/github/workspace"),
        (HOST_WORKSPACE + "/", "/github/workspace"),
        (HOST_WORKSPACE + "/build/results", "/github/workspace/build/results"),
        (HOST_WORKSPACE + "/build/results/", "/github/workspace/build/results/"),
        ("/home/runner/work/_temp/out", "/github/runner_temp/out"),
        ("/github/workspace/build", "/github/workspace/build"),
        ("/github/home/x", "/github/home/x"),
        ("build/results", "build/results"),
    ],
)
def test_path_translated(path: str, expected: str) -> None:
    assert container_path(path, CONTAINER_ENV, "root") == expected


def test_path_of_similar_name_rejected() -> None:
    with pytest.raises(SettingsError) as raised:
        container_path(HOST_WORKSPACE + "-other/x", CONTAINER_ENV, "root")
    assert str(raised.value) == (
        f"invalid root '{HOST_WORKSPACE}-other/x': the folder is not mounted into the "
        f"action's container. The runner mounts {HOST_WORKSPACE} (as /github/workspace), "
        "/home/runner/work/_temp (as /github/runner_temp). Write the results into the "
        "workspace, or give the path relative to it"
    )


def test_outside_container_unchanged() -> None:
    environ = {**CONTAINER_ENV, "GITHUB_WORKSPACE": HOST_WORKSPACE}
    assert container_path("/opt/results", environ, "root") == "/opt/results"
    assert container_path(HOST_WORKSPACE + "/a", environ, "root") == HOST_WORKSPACE + "/a"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (HOST_WORKSPACE + "/build/**/TEST-*.xml", "/github/workspace/build/**/TEST-*.xml"),
        ("!" + HOST_WORKSPACE + "/build/tmp/**", "!/github/workspace/build/tmp/**"),
        (HOST_WORKSPACE + "/report.xml", "/github/workspace/report.xml"),
        (HOST_WORKSPACE + "/**", "/github/workspace/**"),
        ("**/TEST-*.xml", "**/TEST-*.xml"),
        ("!**/tmp/**", "!**/tmp/**"),
    ],
)
def test_pattern_translated(pattern: str, expected: str) -> None:
    assert container_pattern(pattern, CONTAINER_ENV, "include") == expected


def test_pattern_outside_mounts_rejected() -> None:
    with pytest.raises(SettingsError) as raised:
        container_pattern("/tmp/results/**/*.xml", CONTAINER_ENV, "exclude")
    assert str(raised.value).startswith(
        "invalid exclude '/tmp/results/**/*.xml': the folder is not mounted"
    )
