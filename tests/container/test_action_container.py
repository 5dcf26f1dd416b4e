"""The action's image, started with the GitHub runner's exact `docker run` flags."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from container.github_runner import (
    BASE_IMAGE,
    IMAGE,
    REPOSITORY,
    RunnerLayout,
    Server,
    docker,
    run_action,
)

pytestmark = pytest.mark.container

RESULT_FILES = {
    "build/test-results/TEST-app.AppTest.xml",
    "build/test-results/TEST-app.OtherTest.xml",
}


def upload_inputs(server: Server, **extra: str) -> dict[str, str]:
    inputs = {
        "server-url": server.url,
        "username": server.username,
        "password": server.password,
        "test-specification": "unit tests",
        "include": "**/TEST-*.xml",
    }
    inputs.update(extra)
    return inputs


def assert_masked_first(log: str, password: str) -> None:
    lines = log.splitlines()
    assert lines[0] == f"::add-mask::{password}"
    assert password not in "\n".join(lines[1:])


def test_upload_imports_results(stand_in: Server, layout: RunnerLayout) -> None:
    step = run_action(layout, upload_inputs(stand_in), job_status="failure")

    assert step.code == 0, step.log
    assert_masked_first(step.log, stand_in.password)
    runs = stand_in.runs()
    assert len(runs) == 1
    run = runs[0]
    assert set(run["files"]) == RESULT_FILES

    # The request the stand-in stored.
    headers = {name.lower(): value for name, value in run["request"]["headers"].items()}
    assert run["request"]["method"] == "POST"
    assert run["request"]["path"] == "/api/internal/import/unit%20tests"
    assert headers["content-type"].startswith("multipart/mixed; boundary=")
    assert headers["transfer-encoding"] == "chunked"
    assert "authorization" not in headers

    # Metadata from the runner's variables. build-result defaults to the job status.
    metadata = run["metadata"]
    assert metadata["ciBuildResult"] == "FAILURE"
    assert metadata["ciBuildNumber"] == "17"
    assert metadata["ciServerUrl"] == "https://github.com"
    assert metadata["ciBuildUrl"] == f"https://github.com/{REPOSITORY}/actions/runs/4242/attempts/1"
    assert metadata["ciExecutedOn"] == "GitHub Actions 2"

    # Outputs and job summary.
    zip_size = (stand_in.data / "runs" / run["id"] / "results.zip").stat().st_size
    assert step.outputs == {
        "test-run-id": run["id"],
        "files": "2",
        "bytes": str(zip_size),
        "status": "imported",
    }
    assert "| server | test specification | files | size | status | test run id |" in step.summary
    assert f"| {stand_in.url} | unit tests | 2 |" in step.summary
    assert f"| imported | {run['id']} |" in step.summary
    assert stand_in.password not in step.summary
    assert "::group::2 result files" in step.log


def test_upload_writes_no_workspace_file(stand_in: Server, layout: RunnerLayout) -> None:
    before = sorted(path.relative_to(layout.workspace) for path in layout.workspace.rglob("*"))

    step = run_action(layout, upload_inputs(stand_in))

    assert step.code == 0, step.log
    after = sorted(path.relative_to(layout.workspace) for path in layout.workspace.rglob("*"))
    assert after == before


def test_host_path_second_line_translated(stand_in: Server, layout: RunnerLayout) -> None:
    # The runner rewrites a value that starts with the host workspace, but not a host path
    # on a later line, so the second pattern reaches the container unchanged.
    host_results = layout.workspace / "build" / "test-results"
    include = f"{host_results}/TEST-app.AppTest.xml\n{host_results}/TEST-app.OtherTest.xml"

    step = run_action(layout, upload_inputs(stand_in, include=include, root=str(layout.workspace)))

    assert step.code == 0, step.log
    runs = stand_in.runs()
    assert len(runs) == 1
    assert set(runs[0]["files"]) == RESULT_FILES
    assert step.outputs["files"] == "2"


def test_host_path_outside_mounts_rejected(stand_in: Server, layout: RunnerLayout) -> None:
    outside = layout.work.parent / "elsewhere"
    include = f"build/**/*.xml\n{outside}/**/*.xml"

    step = run_action(layout, upload_inputs(stand_in, include=include))

    assert step.code == 2, step.log
    assert_masked_first(step.log, stand_in.password)
    assert f"::error title=xltv upload failed::invalid include '{outside}/**/*.xml'" in step.log
    assert "the folder is not mounted into the action's container" in step.log
    assert f"{layout.workspace} (as /github/workspace)" in step.log
    assert stand_in.runs() == []
    assert step.outputs["status"] == "failed"
    assert "The upload did not start: invalid include" in step.summary


def test_wrong_password_fails_step(stand_in: Server, layout: RunnerLayout) -> None:
    wrong = "not-the-Pa55word"

    step = run_action(layout, upload_inputs(stand_in, password=wrong))

    assert step.code == 1, step.log
    assert step.log.splitlines()[0] == f"::add-mask::{wrong}"
    assert wrong not in "\n".join(step.log.splitlines()[1:])
    assert "::error title=xltv upload failed::" in step.log
    assert "401" in step.log
    assert stand_in.runs() == []
    assert step.outputs["status"] == "failed"
    assert step.outputs["test-run-id"] == ""
    assert "| failed |" in step.summary


def test_no_files_warns_with_annotation(stand_in: Server, layout: RunnerLayout) -> None:
    inputs = upload_inputs(stand_in, include="**/nothing-*.xml")
    inputs["if-no-files-found"] = "warn"

    step = run_action(layout, inputs)

    assert step.code == 0, step.log
    assert "::warning title=xltv::" in step.log
    assert stand_in.runs() == []
    assert step.outputs["status"] == "no-files"
    assert step.outputs["files"] == "0"


def test_dry_run_files_owned_by_workspace_owner(stand_in: Server, layout: RunnerLayout) -> None:
    # On a hosted runner the workspace belongs to the runner user (uid 1001), not root.
    for folder in [layout.workspace, *layout.workspace.rglob("*")]:
        os.chown(folder, 1001, 1001)
    inputs = upload_inputs(stand_in, output="body.bin")
    inputs["dry-run"] = "true"
    inputs["dotenv-file"] = "xltv.env"

    step = run_action(layout, inputs)

    assert step.code == 0, step.log
    assert stand_in.runs() == []
    assert step.outputs["status"] == "dry-run"
    body = (layout.workspace / "body.bin").read_bytes()
    zip_start = body.index(b"PK\x03\x04")
    names = set(zipfile.ZipFile(io.BytesIO(body[zip_start:])).namelist())
    assert names == RESULT_FILES
    assert stand_in.password.encode() not in body
    dotenv = (layout.workspace / "xltv.env").read_text()
    assert "XLTV_STATUS=dry-run\n" in dotenv
    for name in ("body.bin", "xltv.env"):
        owner = (layout.workspace / name).stat()
        assert (owner.st_uid, owner.st_gid) == (1001, 1001), name


def test_image_has_no_build_tools() -> None:
    check = (
        "import importlib.util, os, sys; "
        "print(json.dumps({"
        "'pip': importlib.util.find_spec('pip') is not None, "
        "'src': os.path.exists('/src'), "
        "'tests': os.path.exists('/opt/xltv/tests'), "
        "'gcc': any(os.path.exists(d + '/gcc') for d in os.environ['PATH'].split(':')), "
        "'prefix': sys.prefix}))"
    )
    completed = docker(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "/opt/xltv/bin/python",
        IMAGE,
        "-c",
        "import json; " + check,
    )

    assert completed.returncode == 0, completed.stderr
    found = json.loads(completed.stdout)
    assert found == {
        "pip": False,
        "src": False,
        "tests": False,
        "gcc": False,
        "prefix": "/opt/xltv",
    }


def test_image_size_over_base() -> None:
    sizes = {}
    for image in (IMAGE, BASE_IMAGE):
        completed = docker("image", "inspect", "--format", "{{.Size}}", image)
        assert completed.returncode == 0, completed.stderr
        sizes[image] = int(completed.stdout)
    added = sizes[IMAGE] - sizes[BASE_IMAGE]
    print(f"\nimage {IMAGE}: {sizes[IMAGE] / 1e6:.1f} MB, {added / 1e6:.1f} MB over {BASE_IMAGE}")

    # The venv with requests, PyYAML and jsonschema is about 10 MB; much more means the
    # build stage leaked pip caches, sources or tests into the final image.
    assert added < 25_000_000
