"""Translate runner paths into the paths of a GitHub Docker action's container.

The runner mounts five folders into the container (actions/runner 2.33x) and rewrites an
environment value that equals or starts with one of their host paths. It does not rewrite
a host path further inside a value, such as the second line of a multi-line input, so
`include: |` with `${{ github.workspace }}/...` lines reaches the container unchanged. This
module rewrites those paths too, and rejects absolute paths that no mount makes visible.
"""

from __future__ import annotations

import logging
import os
import posixpath
from collections.abc import Mapping

from xltv.collect import inside
from xltv.errors import SettingsError

log = logging.getLogger(__name__)

CONTAINER_WORKSPACE = "/github/workspace"
CONTAINER_RUNNER_TEMP = "/github/runner_temp"

# Folder inside the container for each folder the runner mounts. The last three are
# subfolders of the runner's temporary folder, which is also mounted whole.
CONTAINER_MOUNTS = (
    CONTAINER_WORKSPACE,
    CONTAINER_RUNNER_TEMP,
    "/github/home",
    "/github/workflow",
    "/github/file_commands",
)


def in_container_action(environ: Mapping[str, str]) -> bool:
    """Return whether this process runs as a GitHub Docker action."""
    return (
        environ.get("GITHUB_ACTIONS") == "true"
        and environ.get("GITHUB_WORKSPACE", "").rstrip("/") == CONTAINER_WORKSPACE
    )


def host_mounts(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Return (host folder, container folder) pairs that the runner's variables reveal.

    RUNNER_WORKSPACE is the parent of the workspace and is not rewritten, because it is not
    itself mounted. The runner names the workspace after the repository, so the host
    workspace is RUNNER_WORKSPACE/<repository name>.
    """
    runner_workspace = environ.get("RUNNER_WORKSPACE", "").rstrip("/")
    repository = environ.get("GITHUB_REPOSITORY", "")
    if not runner_workspace.startswith("/"):
        return []

    mounts = []
    if "/" in repository:
        workspace = posixpath.join(runner_workspace, repository.rsplit("/", 1)[1])
        mounts.append((workspace, CONTAINER_WORKSPACE))

    # Runners before 2.329 pass the host RUNNER_TEMP unchanged, and newer ones rewrite it.
    runner_temp = environ.get("RUNNER_TEMP", "").rstrip("/")
    if not runner_temp.startswith("/") or runner_temp == CONTAINER_RUNNER_TEMP:
        # NOTE: this is the runner's own layout (_work/<repository>, _work/_temp), not a
        # documented contract. A self-hosted runner with another layout gets a wrong mapping.
        runner_temp = posixpath.join(posixpath.dirname(runner_workspace), "_temp")
    mounts.append((runner_temp, CONTAINER_RUNNER_TEMP))
    return mounts


def container_path(
    path: str, environ: Mapping[str, str], setting: str, shown: str | None = None
) -> str:
    """Rewrite a host path to the container path inside a Docker action; else return it.

    A relative path, and any path outside a Docker action, is returned unchanged. Inside
    one, an absolute path that is neither under a mounted host folder nor under a
    container mount raises SettingsError, which names the mounted folders. The message
    shows `shown` as the setting's value, or else the quoted path.
    """
    if not in_container_action(environ) or not path.startswith("/"):
        return path

    normal = posixpath.normpath(path)
    if any(inside(normal, mount) for mount in CONTAINER_MOUNTS):
        return path

    for host, container in host_mounts(environ):
        if inside(normal, host):
            rest = posixpath.relpath(normal, host)
            translated = container if rest == "." else posixpath.join(container, rest)
            return translated + ("/" if path.endswith("/") and rest != "." else "")

    mounted = ", ".join(
        f"{host} (as {container})" for host, container in host_mounts(environ)
    ) or ", ".join(CONTAINER_MOUNTS)
    value = shown or repr(path)
    raise SettingsError(
        f"invalid {setting} {value}: the folder is not mounted into the action's container. "
        f"The runner mounts {mounted}. Write the results into the workspace, or give the "
        "path relative to it"
    )


def container_pattern(pattern: str, environ: Mapping[str, str], setting: str) -> str:
    """Rewrite the folder part of an absolute Ant-style pattern, keeping a leading `!`."""
    negated = pattern.startswith("!")
    text = pattern[1:] if negated else pattern
    if not text.startswith("/"):
        return pattern

    # Only the part before the first wildcard is a folder that can be translated.
    parts = text.split("/")
    fixed = 0
    while fixed < len(parts) and not any(mark in parts[fixed] for mark in "*?["):
        fixed += 1
    folder = "/".join(parts[:fixed]) or "/"
    rest = "/".join(parts[fixed:])
    translated = container_path(folder, environ, setting, repr(pattern))
    if rest:
        translated = translated.rstrip("/") + "/" + rest
    return ("!" if negated else "") + translated


def give_to_workspace_owner(path: str, environ: Mapping[str, str]) -> None:
    """Give a file written into the workspace to the workspace's owner.

    A Docker action runs as root, so its files would belong to root, and a later
    actions/checkout running as the runner's user could not delete them. Outside a Docker
    action, when not root, or for a file outside the workspace, nothing changes.
    """
    if not in_container_action(environ) or os.geteuid() != 0:
        return

    real = os.path.realpath(path)
    if not inside(real, CONTAINER_WORKSPACE):
        return
    owner = os.stat(CONTAINER_WORKSPACE)
    try:
        os.chown(real, owner.st_uid, owner.st_gid)
    except OSError as error:
        log.warning(
            "Cannot change the owner of %s to the workspace owner (uid %d): %s. A later "
            "checkout may fail to delete the file",
            path,
            owner.st_uid,
            error.strerror,
        )
