"""Tests of the committed sample reports in examples/results and of examples/demo.py."""

from __future__ import annotations

import base64
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest
from conftest import REPO, clean_env

RESULTS = REPO / "examples" / "results"
REPORTS = ["pytest/TEST-pytest.xml", "jest/junit.xml", "node-test/junit.xml"]
DEMO_TOKEN = base64.b64encode(b"admin:admin").decode("ascii")


def run_demo(**extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py")],
        env=clean_env(**extra_env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("report", REPORTS)
def test_report_has_every_outcome(report: str) -> None:
    root = ElementTree.parse(RESULTS / report).getroot()
    cases = list(root.iter("testcase"))
    failed = [case for case in cases if case.find("failure") is not None]
    skipped = [case for case in cases if case.find("skipped") is not None]

    assert root.tag == "testsuites"
    assert len(failed) == 1
    assert len(skipped) == 1
    assert len(cases) - len(failed) - len(skipped) >= 3


def test_results_folder_has_only_reports() -> None:
    files = sorted(path.relative_to(RESULTS).as_posix() for path in RESULTS.rglob("*"))

    assert files == sorted(["jest", "node-test", "pytest", *REPORTS])


def test_demo_uploads_and_prints_run() -> None:
    completed = run_demo()
    output = completed.stdout + completed.stderr

    assert completed.returncode == 0, output
    assert "xltv upload exited with code 0" in output
    assert "== Stored run " in output
    assert '"source": "local"' in output
    for report in REPORTS:
        assert f"files/{report} (" in output
    assert "xltv serve: stopped" in output
    assert DEMO_TOKEN not in output
    assert "Authorization" not in output


def test_demo_ignores_xltv_variables() -> None:
    completed = run_demo(XLTV_EXCLUDE="**/*.xml", INPUT_INCLUDE="nothing/*.xml")
    output = completed.stdout + completed.stderr

    assert completed.returncode == 0, output
    assert "files/pytest/TEST-pytest.xml (" in output
