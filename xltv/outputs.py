"""Report results to the CI system: log format, GitHub outputs and job summary, dotenv file.

GitHub Actions reads workflow commands (`::add-mask::`, `::error::`, `::group::`) from the
step's output, and step outputs and the job summary from the files named by GITHUB_OUTPUT
and GITHUB_STEP_SUMMARY. See
https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

log = logging.getLogger(__name__)


@dataclass
class UploadReport:
    """The result of one upload, for the outputs and the job summary."""

    test_specification: str
    status: str = "failed"  # imported, no-new-results, no-files, failed or dry-run
    files: int = 0
    bytes: int = 0
    test_run_ids: list[str] = field(default_factory=list)
    reason: str = ""


def in_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """Escape a workflow command's message: %, CR and LF would end or break the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GitHubFormatter(logging.Formatter):
    """Format warnings and errors as GitHub annotations with a title."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"::error title={escape_property('xltv upload failed')}::{escape_data(message)}"
        if record.levelno >= logging.WARNING:
            return f"::warning title={escape_property('xltv')}::{escape_data(message)}"
        if record.levelno <= logging.DEBUG:
            return f"::debug::{escape_data(message)}"
        return message


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"xltv: error: {message}"
        if record.levelno >= logging.WARNING:
            return f"xltv: warning: {message}"
        return message


def configure_logging(verbose: bool, github: bool, stream: TextIO | None = None) -> None:
    """Send the xltv logger's records to stderr, as annotations inside GitHub Actions."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(GitHubFormatter() if github else PlainFormatter())
    logger = logging.getLogger("xltv")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


def mask(secret: str, stream: TextIO | None = None) -> None:
    """Tell the GitHub runner to hide the secret in every later line of the log."""
    target = stream or sys.stderr
    target.write(f"::add-mask::{escape_data(secret)}\n")
    target.flush()


def start_group(title: str) -> None:
    sys.stderr.write(f"::group::{escape_data(title)}\n")


def end_group() -> None:
    sys.stderr.write("::endgroup::\n")


def output_values(reports: list[UploadReport]) -> dict[str, str]:
    """Combine the reports of a run: ids joined by commas, counts added, the worst status."""
    order = ["failed", "no-new-results", "no-files", "dry-run", "imported"]
    statuses = [report.status for report in reports] or ["no-files"]
    worst = min(statuses, key=order.index)
    return {
        "test-run-id": ",".join(run_id for report in reports for run_id in report.test_run_ids),
        "files": str(sum(report.files for report in reports)),
        "bytes": str(sum(report.bytes for report in reports)),
        "status": worst,
    }


def write_github_outputs(path: str, values: Mapping[str, str]) -> None:
    """Append outputs in the runner's `name<<delimiter` form, which allows any value."""
    with open(path, "a", encoding="utf-8") as target:
        for name, value in values.items():
            delimiter = "xltv_" + secrets.token_hex(8)
            target.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def write_dotenv(path: str, values: Mapping[str, str]) -> None:
    """Write outputs as XLTV_<NAME>=value lines, the format of GitLab's dotenv report."""
    with open(path, "w", encoding="utf-8") as target:
        for name, value in values.items():
            variable = "XLTV_" + name.upper().replace("-", "_")
            target.write(f"{variable}={value.replace(chr(10), ' ')}\n")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(server_url: str, reports: list[UploadReport]) -> str:
    """Return the job summary: one table row per upload, then the reasons of failures."""
    lines = [
        "### XL TestView import",
        "",
        "| server | test specification | files | size | status | test run id |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for report in reports:
        lines.append(
            f"| {markdown_cell(server_url)} | {markdown_cell(report.test_specification)} "
            f"| {report.files} | {human_size(report.bytes)} | {report.status} "
            f"| {markdown_cell(', '.join(report.test_run_ids)) or '-'} |"
        )
    reasons = [report for report in reports if report.reason]
    if reasons:
        lines.append("")
        for report in reasons:
            lines.append(f"**{markdown_cell(report.test_specification)}**: {report.reason}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_summary(path: str, markdown: str) -> None:
    with open(path, "a", encoding="utf-8") as target:
        target.write(markdown)
