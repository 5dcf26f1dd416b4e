"""The real `xltv upload` command against the stand-in server on loopback."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import (
    PASSWORD,
    REPO,
    USERNAME,
    StandIn,
    clean_env,
    run_xltv,
    start_stand_in,
    upload_args,
    upload_env,
)

from xltv import __version__


def assert_no_password(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text


def test_import_stores_files_and_metadata(stand_in: StandIn, results: Path) -> None:
    result = run_xltv(*upload_args(stand_in.url, results), env=upload_env(stand_in))

    assert result.code == 0, result.output
    runs = stand_in.runs()
    assert len(runs) == 1
    assert sorted(runs[0]["files"]) == [
        "build/test-results/TEST-app.AppTest.xml",
        "build/test-results/TEST-app.OtherTest.xml",
    ]
    for name, content in runs[0]["files"].items():
        assert content == (results / name).read_bytes()
    assert runs[0]["metadata"]["source"] == "local"
    assert f"as test run {runs[0]['id']}" in result.stderr
    assert "Found 2 files" in result.stderr
    assert_no_password(result.stdout, result.stderr)


def test_request_headers_follow_protocol(stand_in: StandIn, results: Path) -> None:
    run_xltv(*upload_args(stand_in.url, results), env=upload_env(stand_in))

    request = stand_in.runs()[0]["request"]
    headers = request["headers"]
    assert request["path"] == "/api/internal/import/unit%20tests"
    assert headers["Accept"] == "application/json; charset=utf-8"
    assert headers["User-Agent"] == f"xltv/{__version__}"
    assert headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in headers
    assert headers["Content-Type"].startswith("multipart/mixed; boundary=xltv-")


def test_context_path_and_trailing_slashes(tmp_path: Path, results: Path) -> None:
    server = start_stand_in(tmp_path, "--context-path", "/xltest")
    try:
        url = server.url + "/xltest/////"
        result = run_xltv(*upload_args(url, results), env=upload_env(server))
        assert result.code == 0, result.output
        assert server.runs()[0]["request"]["path"] == "/api/internal/import/unit%20tests".replace(
            "/api", "/xltest/api"
        )
    finally:
        server.process.terminate()
        server.process.wait()


def test_test_specification_id_encoded(tmp_path: Path, results: Path) -> None:
    specification = "performance tests (old)/for Demo"
    server = start_stand_in(tmp_path, specifications=(specification,))
    try:
        arguments = upload_args(server.url, results)
        arguments[arguments.index("unit tests")] = specification
        result = run_xltv(*arguments, env=upload_env(server))
        assert result.code == 0, result.output
        path = server.runs()[0]["request"]["path"]
        assert path == "/api/internal/import/performance%20tests%20%28old%29%2Ffor%20Demo"
    finally:
        server.process.terminate()
        server.process.wait()


def test_array_test_run_id(tmp_path: Path, results: Path) -> None:
    server = start_stand_in(tmp_path, "--run-id-format", "array")
    output_file = tmp_path / "github_output"
    try:
        env = upload_env(server, GITHUB_OUTPUT=str(output_file))
        result = run_xltv(*upload_args(server.url, results), env=env)
        assert result.code == 0, result.output
        assert "test-run-id<<" in output_file.read_text()
        assert server.runs()[0]["id"] in output_file.read_text()
    finally:
        server.process.terminate()
        server.process.wait()


def test_same_results_twice_is_no_new_results(stand_in: StandIn, results: Path) -> None:
    first = run_xltv(*upload_args(stand_in.url, results), env=upload_env(stand_in))
    second = run_xltv(*upload_args(stand_in.url, results), env=upload_env(stand_in))

    assert first.code == 0
    assert second.code == 1
    assert "no new results" in second.stderr
    assert "HTTP 304" in second.stderr
    assert len(stand_in.runs()) == 1


def test_fail_on_error_false_turns_failure_into_warning(stand_in: StandIn, results: Path) -> None:
    run_xltv(*upload_args(stand_in.url, results), env=upload_env(stand_in))

    second = run_xltv(
        *upload_args(stand_in.url, results, "--fail-on-error", "false"), env=upload_env(stand_in)
    )

    assert second.code == 0
    assert "xltv: warning: no new results" in second.stderr
    assert "fail-on-error is false" in second.stderr


def test_unknown_test_specification(stand_in: StandIn, results: Path) -> None:
    arguments = upload_args(stand_in.url, results)
    arguments[arguments.index("unit tests")] = "nope"

    result = run_xltv(*arguments, env=upload_env(stand_in))

    assert result.code == 1
    assert f"test specification 'nope' not found on {stand_in.url}" in result.stderr


def test_wrong_password(stand_in: StandIn, results: Path) -> None:
    env = clean_env(XLTV_PASSWORD="wrong-password")

    result = run_xltv(*upload_args(stand_in.url, results), env=env)

    assert result.code == 1
    assert f"rejected the credentials of user '{USERNAME}' (HTTP 401)" in result.stderr
    assert "wrong-password" not in result.output


@pytest.mark.parametrize(
    ("mode", "code", "message"),
    [
        ("error", 3, "xltv: error: no file under"),
        ("warn", 0, "xltv: warning: no file under"),
        ("ignore", 0, None),
    ],
)
def test_no_files_found(
    stand_in: StandIn, results: Path, mode: str, code: int, message: str | None
) -> None:
    arguments = upload_args(stand_in.url, results, "--if-no-files-found", mode)
    arguments[arguments.index("**/TEST-*.xml")] = "**/*.trx"

    result = run_xltv(*arguments, env=upload_env(stand_in))

    assert result.code == code
    if message:
        assert message in result.stderr
        assert str(results) in result.stderr
        assert "**/*.trx" in result.stderr
    else:
        assert "warning" not in result.stderr
        assert "error" not in result.stderr
    assert stand_in.runs() == []


def test_invalid_settings_send_nothing(stand_in: StandIn, results: Path) -> None:
    result = run_xltv(
        *upload_args(stand_in.url, results, "--metadata", "@bad=1"), env=upload_env(stand_in)
    )

    assert result.code == 2
    assert "invalid metadata key '@bad'" in result.stderr
    assert "Traceback" not in result.output
    assert stand_in.runs() == []


def test_unknown_flag_exits_2(results: Path) -> None:
    result = run_xltv("upload", "--password", "x", env=clean_env())

    assert result.code == 2
    assert "the password cannot be a flag" in result.stderr


def test_dry_run_sends_nothing(stand_in: StandIn, results: Path, tmp_path: Path) -> None:
    body_file = results / "body.bin"
    env = upload_env(stand_in)

    result = run_xltv(
        *upload_args(
            stand_in.url, results, "--dry-run", "--output", str(body_file), "--include", "**/*.bin"
        ),
        env=env,
    )

    assert result.code == 0, result.output
    assert stand_in.runs() == []
    assert "Dry run: would POST to" in result.stderr
    assert "password hidden" in result.stderr
    body = body_file.read_bytes()
    assert body.startswith(b"--xltv-")
    assert PASSWORD.encode() not in body
    archive = zip_part(body)
    assert archive.namelist() == [
        "build/test-results/TEST-app.AppTest.xml",
        "build/test-results/TEST-app.OtherTest.xml",
    ]
    assert_no_password(result.stdout, result.stderr)


def zip_part(body: bytes) -> zipfile.ZipFile:
    boundary = body.split(b"\r\n", 1)[0]
    parts = body.split(b"\r\n" + boundary)
    zip_bytes = parts[1].split(b"\r\n\r\n", 1)[1]
    return zipfile.ZipFile(io.BytesIO(zip_bytes))


def test_dry_run_needs_no_password(results: Path) -> None:
    result = run_xltv(
        *upload_args("https://xltv.example.com/", results, "--dry-run"), env=clean_env()
    )

    assert result.code == 0, result.output
    assert "https://xltv.example.com/api/internal/import/unit%20tests" in result.stderr


def test_config_uploads_make_one_request_each(tmp_path: Path, results: Path) -> None:
    server = start_stand_in(tmp_path, specifications=("app", "other"))
    (results / ".xltestview.yml").write_text(
        f"""server-url: {server.url}
username: {USERNAME}
metadata: {{team: core}}
uploads:
  - test-specification: app
    include: "**/TEST-app.AppTest.xml"
  - test-specification: other
    include: "**/TEST-app.OtherTest.xml"
    metadata: {{team: qa}}
"""
    )
    try:
        result = run_xltv("upload", "--root", str(results), env=upload_env(server))
        assert result.code == 0, result.output
        runs = server.runs()
        assert len(runs) == 2
        by_file = {next(iter(run["files"])): run for run in runs}
        app = by_file["build/test-results/TEST-app.AppTest.xml"]
        other = by_file["build/test-results/TEST-app.OtherTest.xml"]
        assert app["metadata"]["team"] == "core"
        assert other["metadata"]["team"] == "qa"
        assert app["request"]["testSpecification"] == "app"
    finally:
        server.process.terminate()
        server.process.wait()


GITHUB_JOB_ENV = {
    "GITHUB_ACTIONS": "true",
    "CI": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "octo-org/octo-repo",
    "GITHUB_WORKFLOW": "CI",
    "GITHUB_JOB": "test",
    "GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
    "GITHUB_RUN_NUMBER": "42",
    "GITHUB_RUN_ID": "1234567",
    "GITHUB_RUN_ATTEMPT": "1",
    "RUNNER_NAME": "runner-7",
}


def github_env(tmp_path: Path, url: str, workspace: Path) -> dict[str, str]:
    return clean_env(
        **GITHUB_JOB_ENV,
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_OUTPUT=str(tmp_path / "output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
        **{
            "INPUT_SERVER-URL": url,
            "INPUT_USERNAME": USERNAME,
            "INPUT_PASSWORD": PASSWORD,
            "INPUT_TEST-SPECIFICATION": "unit tests",
            "INPUT_INCLUDE": "**/TEST-*.xml",
            "INPUT_EXCLUDE": "",
            "INPUT_METADATA": "branch: main\nteam: core",
            "INPUT_BUILD-RESULT": "failure",
            "INPUT_DRY-RUN": "",
        },
    )


def read_github_outputs(path: Path) -> dict[str, str]:
    values = {}
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        name, _, delimiter = lines[index].partition("<<")
        end = lines.index(delimiter, index + 1)
        values[name] = "\n".join(lines[index + 1 : end])
        index = end + 1
    return values


def test_github_action_environment(tmp_path: Path, stand_in: StandIn, results: Path) -> None:
    env = github_env(tmp_path, stand_in.url, results)

    result = run_xltv(env=env, script=str(REPO / "entrypoint.py"), cwd=results)

    assert result.code == 0, result.output
    run = stand_in.runs()[0]
    assert run["metadata"] == {
        "source": "github-actions",
        "ciServerUrl": "https://github.com",
        "ciJobName": "octo-org/octo-repo/CI/test",
        "ciJobUrl": "https://github.com/octo-org/octo-repo/actions/workflows/ci.yml",
        "ciBuildNumber": "42",
        "ciBuildUrl": "https://github.com/octo-org/octo-repo/actions/runs/1234567/attempts/1",
        "ciExecutedOn": "runner-7",
        "ciBuildResult": "FAILURE",
        "branch": "main",
        "team": "core",
    }
    outputs = read_github_outputs(tmp_path / "output")
    assert outputs == {
        "test-run-id": run["id"],
        "files": "2",
        "bytes": outputs["bytes"],
        "status": "imported",
    }
    assert int(outputs["bytes"]) > 0
    summary = (tmp_path / "summary").read_text()
    assert f"| {stand_in.url} | unit tests | 2 |" in summary
    assert f"| imported | {run['id']} |" in summary
    assert result.stderr.splitlines()[0] == f"::add-mask::{PASSWORD}"
    assert result.stderr.count(PASSWORD) == 1
    assert PASSWORD not in summary
    assert "::group::2 result files" in result.stderr


def test_github_failure_annotation_and_summary(tmp_path: Path, results: Path) -> None:
    env = github_env(tmp_path, "http://127.0.0.1:9", results)
    env["INPUT_INCLUDE"] = "**/*.none"

    result = run_xltv(env=env, script=str(REPO / "entrypoint.py"), cwd=results)

    assert result.code == 3
    assert "::error title=xltv upload failed::no file under" in result.stderr
    assert read_github_outputs(tmp_path / "output")["status"] == "no-files"
    assert "no file under" in (tmp_path / "summary").read_text()


def test_github_invalid_setting_summary(tmp_path: Path, results: Path) -> None:
    env = github_env(tmp_path, "http://127.0.0.1:9", results)
    env["INPUT_FAIL-ON-ERROR"] = "sometimes"

    result = run_xltv(env=env, script=str(REPO / "entrypoint.py"), cwd=results)

    assert result.code == 2
    assert "::error title=xltv upload failed::invalid fail-on-error" in result.stderr
    assert "The upload did not start: invalid fail-on-error" in (tmp_path / "summary").read_text()
    assert read_github_outputs(tmp_path / "output")["status"] == "failed"


def test_dotenv_file(stand_in: StandIn, results: Path, tmp_path: Path) -> None:
    dotenv = tmp_path / "xltv.env"

    result = run_xltv(
        *upload_args(stand_in.url, results, "--dotenv-file", str(dotenv)), env=upload_env(stand_in)
    )

    assert result.code == 0, result.output
    lines = dotenv.read_text().splitlines()
    assert f"XLTV_TEST_RUN_ID={stand_in.runs()[0]['id']}" in lines
    assert "XLTV_STATUS=imported" in lines
    assert "XLTV_FILES=2" in lines


def test_three_ways_to_start_run_same_main() -> None:
    module = run_xltv("--version")
    entrypoint = run_xltv("--version", script=str(REPO / "entrypoint.py"))
    installed = shutil.which("xltv", path=str(Path(sys.executable).parent))
    assert installed is not None
    command = subprocess.run([installed, "--version"], capture_output=True, text=True)

    assert module.stdout == f"xltv {__version__}\n"
    assert entrypoint.stdout == module.stdout
    assert command.stdout == module.stdout


def test_entrypoint_defaults_to_upload(results: Path) -> None:
    result = run_xltv(script=str(REPO / "entrypoint.py"), env=clean_env(), cwd=results)

    assert result.code == 2
    assert "missing server-url" in result.stderr


def test_metadata_json_is_utf8(stand_in: StandIn, results: Path) -> None:
    result = run_xltv(
        *upload_args(stand_in.url, results, "--metadata", "owner=Zoë Müller"),
        env=upload_env(stand_in),
    )

    assert result.code == 0, result.output
    assert stand_in.runs()[0]["metadata"]["owner"] == "Zoë Müller"
    stored = (stand_in.data / "runs" / stand_in.runs()[0]["id"] / "metadata.json").read_text()
    assert json.loads(stored)["owner"] == "Zoë Müller"


def test_dotenv_file_on_invalid_settings(results: Path, tmp_path: Path) -> None:
    dotenv = tmp_path / "xltv.env"
    env = clean_env(XLTV_DOTENV_FILE=str(dotenv))

    result = run_xltv("upload", "--root", str(results), env=env)

    assert result.code == 2
    assert "XLTV_STATUS=failed" in dotenv.read_text().splitlines()
