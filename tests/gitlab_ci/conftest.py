"""Fixtures for the GitLab template tests.

Each test builds its own git repository in a temporary folder: the templates copied in, a
`.gitlab-ci.yml` and real result files, committed, because gitlab-ci-local reads the commit.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from .pipeline import (
    CLASSIC_INCLUDE,
    COMPONENT,
    GITLAB_CI_LOCAL,
    REMOTE_URL,
    Pipeline,
    git,
)


@pytest.fixture(scope="session")
def gitlab_ci_local() -> Path:
    if not GITLAB_CI_LOCAL.exists():
        pytest.fail(
            f"gitlab-ci-local not found at {GITLAB_CI_LOCAL}; run .ci/install-gitlab-ci-local",
            pytrace=False,
        )
    if shutil.which("rsync") is None:
        pytest.fail(
            "rsync not found, and gitlab-ci-local needs it; run .ci/install-gitlab-ci-local",
            pytrace=False,
        )
    return GITLAB_CI_LOCAL


@pytest.fixture
def make_pipeline(tmp_path: Path, gitlab_ci_local: Path) -> Callable[..., Pipeline]:
    """Return a factory that commits a pipeline, the templates and result files to a repo."""

    def make(pipeline_yaml: str, files: Mapping[str, str] | None = None) -> Pipeline:
        folder = Path(tempfile.mkdtemp(prefix="project-", dir=tmp_path))
        home = Path(tempfile.mkdtemp(prefix="home-", dir=tmp_path))
        state = Path(tempfile.mkdtemp(prefix="state-", dir=tmp_path))

        shutil.copytree(COMPONENT.parent, folder / "templates")
        shutil.copytree(CLASSIC_INCLUDE.parent, folder / "gitlab")
        (folder / ".gitlab-ci.yml").write_text(pipeline_yaml, encoding="utf-8")
        for name, text in (files or {}).items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

        git(folder, "init", "--quiet", "--initial-branch=main")
        git(folder, "remote", "add", "origin", REMOTE_URL)
        git(folder, "add", "--all")
        git(folder, "commit", "--quiet", "--message", "Add the pipeline")
        # Make the repository look cloned, as gitlab-ci-local reads the default branch there.
        git(folder, "update-ref", "refs/remotes/origin/main", "HEAD")
        git(folder, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Test\n\temail = test@127.0.0.1\n", encoding="utf-8"
        )
        return Pipeline(folder, home, state)

    return make
