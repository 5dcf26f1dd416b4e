"""Property-based tests: any settings, metadata or pattern text gives a result or a
SettingsError (exit 2) with a message, never another exception or a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import run_xltv, upload_env
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xltv.collect import Pattern, Selection, split_patterns
from xltv.errors import SettingsError
from xltv.plan import check_server_url, make_plan, parse_metadata
from xltv.settings import SETTINGS

ROOT = Path(tempfile.mkdtemp(prefix="xltv-properties-"))
(ROOT / "build").mkdir()
(ROOT / "build" / "TEST-a.xml").write_text("<testsuite/>")

# Text as CI systems and users pass it: any characters but NUL, which no environment
# variable can hold.
text = st.text(st.characters(blacklist_characters="\x00"), max_size=40)
wild = st.one_of(
    text,
    st.sampled_from(
        ["", " ", "true", "false", "0", "-1", "1e309", "nan", "inf", "9" * 30, "**", "!", "/"]
    ),
)
scalar = st.one_of(text, st.integers(), st.floats(), st.booleans(), st.none())


def assert_message(error: SettingsError) -> None:
    assert str(error).strip(), "a SettingsError needs a message"


# Patterns.


@given(text)
def test_pattern_parses_or_rejects(value: str) -> None:
    try:
        pattern = Pattern(value)
    except SettingsError as error:
        assert_message(error)
        return
    assert pattern.segments
    assert ".." not in pattern.segments


@given(text, st.lists(st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s), max_size=5))
def test_pattern_matching_never_raises(value: str, names: list[str]) -> None:
    try:
        pattern = Pattern(value)
    except SettingsError:
        return
    path = "/".join(names)
    assert pattern.matches(path) in (True, False)
    assert pattern.may_match_below(tuple(names)) in (True, False)
    assert pattern.covers_whole(tuple(names) or ("x",)) in (True, False)


@given(st.one_of(text, st.lists(text, max_size=5)), st.lists(text, max_size=3))
def test_selection_parses_or_rejects(include: str | list[str], exclude: list[str]) -> None:
    try:
        selection = Selection.parse(split_patterns(include), split_patterns(exclude))
    except SettingsError as error:
        assert_message(error)
        return
    assert selection.selects("build/TEST-a.xml") in (True, False)


@given(st.sampled_from(["*", "**", "?", "a*b", "**/x/**"]), st.text(max_size=30))
def test_pattern_star_stays_in_segment(value: str, name: str) -> None:
    pattern = Pattern(value)
    if "/" in name and "**" not in value:
        assert not pattern.matches(name)


# Metadata.


@given(
    st.one_of(
        text,
        st.lists(text, max_size=5),
        st.dictionaries(text, scalar, max_size=5),
        st.dictionaries(text, st.lists(scalar, max_size=2), max_size=2),
    )
)
def test_metadata_parses_or_rejects(raw: Any) -> None:
    try:
        metadata = parse_metadata(raw, "flag --metadata")
    except SettingsError as error:
        assert_message(error)
        return
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in metadata.items())


@given(st.lists(st.tuples(text, text), max_size=5))
def test_metadata_lines_keep_values(pairs: list[tuple[str, str]]) -> None:
    lines = "\n".join(f"{key}={value}" for key, value in pairs)
    try:
        metadata = parse_metadata(lines, "variable XLTV_METADATA")
    except SettingsError as error:
        assert_message(error)
        return
    assert all(isinstance(value, str) for value in metadata.values())


# Server URL.


@given(text)
def test_server_url_checked(value: str) -> None:
    try:
        assert check_server_url(value) == value
    except SettingsError as error:
        assert_message(error)


@given(
    st.sampled_from(["http://", "https://", "ftp://", "HTTP://", "", "//"]),
    st.sampled_from(["user:", ":", "user:x", ""]),
    st.sampled_from(["127.0.0.1", "[::1]", "[::1", "h", "", "a b", "h:99999", "h:x", "h@h"]),
    text,
)
def test_server_url_password_hidden(scheme: str, user: str, host: str, rest: str) -> None:
    value = f"{scheme}{user}Pa55word@{host}/{rest}"

    with pytest.raises(SettingsError) as raised:
        check_server_url(value)

    assert "Pa55word" not in str(raised.value)


# Whole plans from every source.

setting_values = st.fixed_dictionaries(
    {},
    optional={setting.name: wild for setting in SETTINGS if setting.name not in ("root",)},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setting_values, st.sampled_from(["flag", "input", "variable", "config"]), text)
def test_plan_from_any_settings(values: dict[str, str], source: str, config_extra: str) -> None:
    flags: dict[str, Any] = {}
    environ = {"XLTV_ROOT": str(ROOT)}
    config_lines = []
    for name, value in values.items():
        setting = next(item for item in SETTINGS if item.name == name)
        if source == "flag" and setting.has_flag:
            flags[name] = [value] if setting.kind in ("metadata", "patterns") else value
        elif source == "input":
            environ[setting.input_variable] = value
        elif source == "config" and setting.in_config and name != "config":
            config_lines.append(f"{name}: {value!r}")
        else:
            environ[setting.variable] = value
    if source == "config":
        config = ROOT / "config.yml"
        config.write_text("\n".join(config_lines) + "\n" + config_extra, encoding="utf-8")
        environ["XLTV_CONFIG"] = str(config)
    assume(all("\x00" not in value for value in environ.values()))

    try:
        plan = make_plan(flags, environ)
    except SettingsError as error:
        assert_message(error)
        return
    assert plan.uploads
    assert plan.server_url


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "GITHUB_ACTIONS",
                "GITLAB_CI",
                "CI",
                "JENKINS_URL",
                "GITHUB_SERVER_URL",
                "GITHUB_REPOSITORY",
                "GITHUB_RUN_ID",
                "CI_JOB_URL",
                "CI_PIPELINE_ID",
                "BUILD_NUMBER",
                "GITHUB_RUN_ATTEMPT",
                "CI_JOB_STATUS",
                "RUNNER_NAME",
            ]
        ),
        wild,
        max_size=8,
    )
)
def test_plan_from_any_ci_variables(ci: dict[str, str]) -> None:
    environ = {
        **ci,
        "XLTV_ROOT": str(ROOT),
        "XLTV_SERVER_URL": "https://127.0.0.1:1",
        "XLTV_USERNAME": "importer",
        "XLTV_PASSWORD": "secret",
        "XLTV_TEST_SPECIFICATION": "unit tests",
        "XLTV_INCLUDE": "**/TEST-*.xml",
    }
    try:
        plan = make_plan({}, environ)
    except SettingsError as error:
        assert_message(error)
        return
    assert all(isinstance(value, str) for value in plan.uploads[0].metadata.values())


# A few whole command runs: exit 0 or 2, a message, no traceback.


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "--retries": wild,
            "--timeout": wild,
            "--compression-level": wild,
            "--include": wild,
            "--metadata": wild,
            "--server-url": wild,
            "--if-no-files-found": wild,
        },
    )
)
def test_command_from_any_flags(flags: dict[str, str]) -> None:
    arguments = ["upload", "--dry-run", "true", "--root", str(ROOT)]
    arguments += ["--test-specification", "unit tests"]
    if "--server-url" not in flags:
        arguments += ["--server-url", "https://127.0.0.1:1"]
    if "--include" not in flags:
        arguments += ["--include", "**/TEST-*.xml"]
    for flag, value in flags.items():
        arguments += [f"{flag}={value}"]

    result = run_xltv(*arguments, env=upload_env("https://127.0.0.1:1"), timeout=60)

    assert result.code in (0, 2, 3), result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    if result.code == 2:
        assert "xltv: error: " in result.stderr
