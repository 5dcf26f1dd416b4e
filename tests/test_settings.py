"""Setting sources, precedence, conversion, and the config file, through make_plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xltv.errors import SettingsError
from xltv.plan import make_plan
from xltv.settings import SETTINGS, SETTINGS_BY_NAME

BASE_ENV = {"XLTV_PASSWORD": "pw", "XLTV_USERNAME": "user"}


def plan_for(
    root: Path, flags: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> Any:
    settings = {
        "server-url": "http://127.0.0.1:9",
        "test-specification": "spec",
        "include": ["**/*.xml"],
        "root": str(root),
    }
    settings.update(flags or {})
    settings = {name: value for name, value in settings.items() if value is not None}
    return make_plan(settings, {**BASE_ENV, **(environ or {})})


def test_setting_names_map_to_sources() -> None:
    server_url = SETTINGS_BY_NAME["server-url"]

    assert server_url.flag == "--server-url"
    assert server_url.input_variable == "INPUT_SERVER-URL"
    assert server_url.variable == "XLTV_SERVER_URL"


def test_every_setting_has_help() -> None:
    for setting in SETTINGS:
        assert setting.help, setting.name


@pytest.mark.parametrize(
    ("flag", "input_value", "variable", "config", "expected"),
    [
        ("7", "5", "3", 2, 7),
        (None, "5", "3", 2, 5),
        (None, None, "3", 2, 3),
        (None, None, None, 2, 2),
        (None, None, None, None, 3),
        (None, "", "4", None, 4),
        ("", "  ", "", None, 3),
    ],
)
def test_precedence(
    tmp_path: Path,
    flag: str | None,
    input_value: str | None,
    variable: str | None,
    config: int | None,
    expected: int,
) -> None:
    environ = {}
    if input_value is not None:
        environ["INPUT_RETRIES"] = input_value
    if variable is not None:
        environ["XLTV_RETRIES"] = variable
    if config is not None:
        (tmp_path / ".xltestview.yml").write_text(f"retries: {config}\n")

    plan = plan_for(tmp_path, {"retries": flag}, environ)

    assert plan.retries == expected


def test_hyphenated_action_inputs(tmp_path: Path) -> None:
    environ = {
        "INPUT_SERVER-URL": "https://xltv.example.com/ctx",
        "INPUT_TEST-SPECIFICATION": "from input",
        "INPUT_IF-NO-FILES-FOUND": "warn",
    }

    plan = plan_for(tmp_path, {"server-url": None, "test-specification": None}, environ)

    assert plan.server_url == "https://xltv.example.com/ctx"
    assert plan.uploads[0].test_specification == "from input"
    assert plan.if_no_files_found == "warn"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "fail-on-error",
            "maybe",
            "invalid fail-on-error: 'maybe' from flag --fail-on-error; expected true or false",
        ),
        (
            "compression-level",
            "10",
            "invalid compression-level: '10' from flag --compression-level; "
            "expected a whole number from 0 to 9",
        ),
        (
            "retries",
            "two",
            "invalid retries: 'two' from flag --retries; expected a whole number from 0 to 100",
        ),
        (
            "timeout",
            "-1",
            "invalid timeout: '-1' from flag --timeout; expected a number of at least 0.001",
        ),
        (
            "if-no-files-found",
            "fail",
            "invalid if-no-files-found: 'fail' from flag --if-no-files-found; "
            "expected one of error, warn, ignore",
        ),
    ],
)
def test_invalid_values_name_source(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path, {name: value})

    assert str(raised.value) == message


def test_invalid_variable_names_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path, environ={"XLTV_DRY_RUN": "perhaps"})

    assert "from variable XLTV_DRY_RUN" in str(raised.value)


@pytest.mark.parametrize("missing", ["server-url", "test-specification"])
def test_missing_required(tmp_path: Path, missing: str) -> None:
    setting = SETTINGS_BY_NAME[missing]

    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path, {missing: None})

    assert str(raised.value).startswith(f"missing {missing}; set it with {setting.flag}")
    assert setting.variable in str(raised.value)


def test_missing_password_names_input_and_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_plan(
            {"server-url": "http://127.0.0.1:9", "test-specification": "s", "root": str(tmp_path)},
            {"XLTV_USERNAME": "u", "XLTV_PASSWORD": ""},
        )

    message = str(raised.value)
    assert message.startswith("missing password")
    assert "the password input" in message
    assert "XLTV_PASSWORD" in message
    assert "--password" not in message


def test_missing_include(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="missing include"):
        plan_for(tmp_path, {"include": None})


def test_include_only_negations(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="nothing is included"):
        plan_for(tmp_path, {"include": ["!**/a.xml"]})


@pytest.mark.parametrize(
    "url",
    ["ftp://host/x", "host:8080", "http://", "https://host/xltv?x=1", "http://host/#frag"],
)
def test_invalid_server_url(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError, match="invalid server-url"):
        plan_for(tmp_path, {"server-url": url})


def test_server_url_with_credentials_hides_password(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path, {"server-url": "https://bob:hunter2@xltv.example.com/"})

    assert "hunter2" not in str(raised.value)
    assert "https://xltv.example.com/" in str(raised.value)
    assert "XLTV_PASSWORD" in str(raised.value)


def test_metadata_sources_merge_per_key(tmp_path: Path) -> None:
    (tmp_path / ".xltestview.yml").write_text(
        "metadata: {team: config, branch: main, level: config}\n"
    )
    environ = {"XLTV_METADATA": "level: variable\nteam: variable", "INPUT_METADATA": "team=input"}

    plan = plan_for(tmp_path, {"metadata": ["flagged=yes"]}, environ)

    metadata = plan.uploads[0].metadata
    assert metadata["team"] == "input"
    assert metadata["level"] == "variable"
    assert metadata["branch"] == "main"
    assert metadata["flagged"] == "yes"


def test_user_metadata_overrides_detected(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, {"metadata": ["source=nightly"]})

    assert plan.uploads[0].metadata["source"] == "nightly"


@pytest.mark.parametrize("key", ["@id", "_private"])
def test_reserved_metadata_key_rejected(tmp_path: Path, key: str) -> None:
    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path, {"metadata": [f"{key}=x"]})

    assert repr(key) in str(raised.value)
    assert "flag --metadata" in str(raised.value)


def test_metadata_without_equals_rejected(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="expected KEY=VALUE"):
        plan_for(tmp_path, {"metadata": ["novalue"]})


def test_default_root_from_ci_variables(tmp_path: Path) -> None:
    settings = {"server-url": "http://127.0.0.1:9", "test-specification": "s", "include": ["*"]}

    plan = make_plan(settings, {**BASE_ENV, "CI_PROJECT_DIR": str(tmp_path)})

    assert plan.root == str(tmp_path)


def test_output_needs_dry_run(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="output is set but dry-run is not"):
        plan_for(tmp_path, {"output": str(tmp_path / "body")})


# The config file.


def write_config(root: Path, text: str) -> Path:
    path = root / ".xltestview.yml"
    path.write_text(text)
    return path


def test_config_uploads_one_request_each(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
server-url: https://xltv.example.com/
metadata: {team: a}
uploads:
  - test-specification: unit
    include: "**/unit/*.xml"
  - test-specification: integration
    include: ["**/it/*.xml", "!**/it/flaky.xml"]
    metadata: {team: b}
""",
    )

    plan = make_plan({"root": str(tmp_path)}, BASE_ENV)

    assert [upload.test_specification for upload in plan.uploads] == ["unit", "integration"]
    assert plan.uploads[1].include == ["**/it/*.xml", "!**/it/flaky.xml"]
    assert plan.uploads[0].metadata["team"] == "a"
    assert plan.uploads[1].metadata["team"] == "b"


def test_explicit_test_specification_replaces_uploads(tmp_path: Path) -> None:
    write_config(tmp_path, "uploads:\n  - {test-specification: unit, include: '*.xml'}\n")

    plan = plan_for(tmp_path)

    assert [upload.test_specification for upload in plan.uploads] == ["spec"]


def test_config_rejects_password(tmp_path: Path) -> None:
    path = write_config(tmp_path, "uploads:\n  - test-specification: x\n    password: hunter2\n")

    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path)

    message = str(raised.value)
    assert message.startswith(f"config file {path} contains a password at uploads[0].password")
    assert "hunter2" not in message


def test_config_schema_error_names_file_and_path(tmp_path: Path) -> None:
    path = write_config(tmp_path, "uploads:\n  - test-specification: x\n    include: {a: b}\n")

    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path)

    assert str(raised.value).startswith(f"invalid config file {path}: at uploads[0].include: ")
    assert "expected ant-style patterns" in str(raised.value)


def test_config_unknown_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, "server_url: https://x/\n")

    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path)

    assert str(raised.value).startswith(f"invalid config file {path}: at the top level: ")
    assert "'server_url' was unexpected" in str(raised.value)


def test_config_yaml_error_gives_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "server-url: https://x/\ninclude: [unclosed\n")

    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path)

    assert str(raised.value).startswith(f"config file {path} is not valid YAML at line 3")


def test_config_named_by_setting(tmp_path: Path) -> None:
    config = tmp_path / "ci" / "xltv.yml"
    config.parent.mkdir()
    config.write_text("retries: 9\n")

    plan = plan_for(tmp_path, {"config": str(config)})

    assert plan.retries == 9


def test_config_named_but_missing(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        plan_for(tmp_path, {"config": str(tmp_path / "absent.yml")})


def test_config_values_kept_as_written(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "retries: 5\nmetadata: {build: 0012, version: 1.10, nightly: yes, day: 2024-01-02}\n",
    )

    plan = plan_for(tmp_path)

    assert plan.retries == 5
    assert plan.uploads[0].metadata["build"] == "0012"
    assert plan.uploads[0].metadata["version"] == "1.10"
    assert plan.uploads[0].metadata["nightly"] == "yes"
    assert plan.uploads[0].metadata["day"] == "2024-01-02"


def test_variable_metadata_kept_as_written(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, environ={"XLTV_METADATA": "build: 0012\nflag: on"})

    assert plan.uploads[0].metadata["build"] == "0012"
    assert plan.uploads[0].metadata["flag"] == "on"


def test_config_number_out_of_range(tmp_path: Path) -> None:
    path = write_config(tmp_path, "retries: 500\n")

    with pytest.raises(SettingsError) as raised:
        plan_for(tmp_path)

    assert str(raised.value) == (
        f"invalid retries: '500' from key retries in {path}; expected a whole number from 0 to 100"
    )


def test_include_flag_with_uploads_list(tmp_path: Path) -> None:
    path = write_config(tmp_path, "uploads:\n  - {test-specification: unit, include: '*.xml'}\n")

    with pytest.raises(SettingsError) as raised:
        make_plan(
            {"root": str(tmp_path), "include": ["other/*.xml"], "server-url": "http://127.0.0.1:9"},
            BASE_ENV,
        )

    assert str(raised.value).startswith(
        f"include from flag --include does not apply to the uploads list in {path}"
    )


def test_output_with_several_uploads(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "uploads:\n  - {test-specification: a, include: '*.xml'}\n"
        "  - {test-specification: b, include: '*.xml'}\n",
    )
    settings = {"root": str(tmp_path), "server-url": "http://127.0.0.1:9", "dry-run": "true"}

    with pytest.raises(SettingsError, match="output writes one request body"):
        make_plan({**settings, "output": str(tmp_path / "body")}, BASE_ENV)


@pytest.mark.parametrize("name", ["output", "dotenv-file"])
def test_output_paths_checked(tmp_path: Path, name: str) -> None:
    flags: dict[str, Any] = {name: str(tmp_path), "dry-run": "true"}

    with pytest.raises(SettingsError, match=f"invalid {name} .*: it is a folder"):
        plan_for(tmp_path, flags)
    with pytest.raises(SettingsError, match="not found; create it"):
        plan_for(tmp_path, {**flags, name: str(tmp_path / "missing" / "file")})


@pytest.mark.parametrize("blank", ["", " , ", "\n"])
def test_blank_include_counts_as_unset(tmp_path: Path, blank: str) -> None:
    plan = plan_for(tmp_path, {"include": [blank]}, {"XLTV_INCLUDE": "reports/*.xml"})

    assert plan.uploads[0].include == ["reports/*.xml"]


def test_blank_include_everywhere_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="missing include"):
        plan_for(tmp_path, {"include": [" , "]})


def test_password_spaces_kept(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, environ={"XLTV_PASSWORD": "  spaced  "})

    assert plan.password == "  spaced  "


def test_password_of_commas_is_set(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, environ={"XLTV_PASSWORD": ", ,"})

    assert plan.password == ", ,"
