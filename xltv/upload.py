"""Run the uploads of a plan: collect, zip, send, and report each one."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping

from xltv.archive import MultipartBody, ZipStream
from xltv.collect import ResultFile, collect
from xltv.errors import EXIT_NO_FILES, EXIT_OK, EXIT_UPLOAD_FAILED, CollectError, UploadError
from xltv.github import give_to_workspace_owner
from xltv.outputs import (
    UploadReport,
    end_group,
    human_size,
    in_github_actions,
    output_values,
    start_group,
    summary_markdown,
    write_dotenv,
    write_github_outputs,
    write_summary,
)
from xltv.plan import Plan, Upload
from xltv.transport import Connection, Sender, import_url, write_body

log = logging.getLogger(__name__)

MAX_LOGGED_METADATA = 2000


def tool_files(plan: Plan, environ: Mapping[str, str]) -> list[str]:
    """Return the files this run writes, which are never collected."""
    paths = [plan.output, plan.dotenv_file]
    paths += [environ.get("GITHUB_OUTPUT"), environ.get("GITHUB_STEP_SUMMARY")]
    return [path for path in paths if path]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def log_files(files: list[ResultFile], github: bool, dry_run: bool) -> None:
    """List the files: in a collapsed group on GitHub, at info in a dry run, else at debug."""
    if github:
        start_group(f"{plural(len(files), 'result file')}")
        for result in files:
            log.info("  %s (%s)", result.name, human_size(result.size))
        end_group()
        return
    level = logging.INFO if dry_run else logging.DEBUG
    for result in files:
        log.log(level, "  %s (%s)", result.name, human_size(result.size))


def run_one(
    plan: Plan, upload: Upload, sender: Sender | None, environ: Mapping[str, str]
) -> UploadReport:
    """Collect, zip and send one upload; failures are recorded in the report."""
    report = UploadReport(test_specification=upload.test_specification)
    github = in_github_actions(environ)

    # Collect.
    patterns = ", ".join(upload.include)
    if upload.exclude:
        patterns += " excluding " + ", ".join(upload.exclude)
    log.info("Collecting %s under %s", patterns, plan.root)
    files = collect(plan.root, upload.selection, leave_out=tool_files(plan, environ))
    report.files = len(files)
    if not files:
        report.status = "no-files"
        report.reason = f"no file under {plan.root} matches {patterns}"
        return report
    total = sum(result.size for result in files)
    log.info("Found %s, %s", plural(len(files), "file"), human_size(total))
    log_files(files, github, plan.dry_run)
    metadata_text = json.dumps(upload.metadata, ensure_ascii=False, sort_keys=True)
    if len(metadata_text) > MAX_LOGGED_METADATA:
        log.info(
            "Metadata: %s... (%d characters)",
            metadata_text[:MAX_LOGGED_METADATA],
            len(metadata_text),
        )
        log.debug("Metadata: %s", metadata_text)
    else:
        log.info("Metadata: %s", metadata_text)

    def make_body() -> MultipartBody:
        return MultipartBody(upload.metadata, ZipStream(files, plan.compression_level))

    if plan.dry_run:
        return dry_run(plan, upload, make_body(), environ, report)
    assert sender is not None
    return send(sender, upload, make_body, report)


def dry_run(
    plan: Plan,
    upload: Upload,
    body: MultipartBody,
    environ: Mapping[str, str],
    report: UploadReport,
) -> UploadReport:
    """Build the request body and show or write it; send nothing."""
    url = import_url(plan.server_url, upload.test_specification)
    log.info("Dry run: would POST to %s", url)
    log.info("  Authorization: Basic (user %s, password hidden)", plan.username or "unset")
    log.info("  Content-Type: %s", body.content_type)

    if plan.output:
        try:
            size = write_body(body, plan.output)
        except OSError as error:
            report.reason = f"cannot write output {plan.output}: {error.strerror}"
            return report
        give_to_workspace_owner(plan.output, environ)
        log.info("Wrote the request body (%s) to %s", human_size(size), plan.output)
    else:
        for _chunk in body:
            pass

    report.bytes = body.archive.size
    report.status = "dry-run"
    log.info("Zip: %s; nothing was sent", human_size(report.bytes))
    return report


def send(
    sender: Sender,
    upload: Upload,
    make_body: Callable[[], MultipartBody],
    report: UploadReport,
) -> UploadReport:
    """Send the upload, a new body for each attempt, and record the outcome."""
    started = time.monotonic()
    bodies: list[MultipartBody] = []

    def tracked_body() -> MultipartBody:
        bodies.append(make_body())
        return bodies[-1]

    try:
        result = sender.send(tracked_body, upload.test_specification)
    except UploadError as error:
        report.status = error.status
        report.reason = str(error)
        report.bytes = bodies[-1].archive.size if bodies else 0
        return report
    except CollectError as error:
        report.reason = str(error)
        return report

    report.bytes = bodies[-1].archive.size
    report.status = "imported"
    report.test_run_ids = result.test_run_ids
    elapsed = time.monotonic() - started
    log.info(
        "Imported %s (%s zipped) into %r as test run %s in %.1f s",
        plural(report.files, "file"),
        human_size(report.bytes),
        upload.test_specification,
        ", ".join(result.test_run_ids) or "(no id returned)",
        elapsed,
    )
    return report


def exit_code_of(plan: Plan, reports: list[UploadReport]) -> int:
    """Return the exit code of the run: 0 imported, 1 failed, 3 no files found."""
    code = EXIT_OK
    for report in reports:
        if report.status in ("failed", "no-new-results"):
            if plan.fail_on_error:
                log.error("%s", report.reason)
                code = EXIT_UPLOAD_FAILED
            else:
                log.warning("%s (fail-on-error is false, so the step passes)", report.reason)
        elif report.status == "no-files":
            if plan.if_no_files_found == "error":
                log.error(
                    "%s; check include and root, or set if-no-files-found to warn or ignore",
                    report.reason,
                )
                code = code or EXIT_NO_FILES
            elif plan.if_no_files_found == "warn":
                log.warning("%s; nothing was sent", report.reason)
    return code


def run(plan: Plan, environ: Mapping[str, str]) -> int:
    """Run every upload of the plan, write the CI outputs, and return the exit code."""
    for warning in plan.warnings:
        log.warning("%s", warning)
    log.info("CI system: %s", plan.provider_name)

    sender = None
    if not plan.dry_run:
        sender = Sender(
            Connection(
                server_url=plan.server_url,
                username=plan.username,
                password=plan.password,
                connect_timeout=plan.connect_timeout,
                read_timeout=plan.read_timeout,
                total_timeout=plan.timeout,
                retries=plan.retries,
                max_retry_wait=plan.max_retry_wait,
                chunked=plan.chunked,
                proxy=plan.proxy,
                verify=plan.verify,
            )
        )
    reports = []
    try:
        for upload in plan.uploads:
            reports.append(run_one(plan, upload, sender, environ))
    finally:
        if sender is not None:
            sender.close()

    code = exit_code_of(plan, reports)
    write_outputs(plan, reports, environ)
    return code


def write_outputs(plan: Plan, reports: list[UploadReport], environ: Mapping[str, str]) -> None:
    """Write step outputs, the job summary and the dotenv file; failures here are warnings."""
    values = output_values(reports)
    targets = [
        ("GITHUB_OUTPUT", environ.get("GITHUB_OUTPUT"), write_github_outputs),
        ("dotenv-file", plan.dotenv_file, write_dotenv),
    ]
    for what, path, write in targets:
        if not path:
            continue
        try:
            write(path, values)
            if what == "dotenv-file":
                give_to_workspace_owner(path, environ)
        except OSError as error:
            log.warning("Cannot write the outputs to %s (%s): %s", path, what, error.strerror)

    summary_path = environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        try:
            write_summary(summary_path, summary_markdown(plan.server_url, reports))
        except OSError as error:
            log.warning("Cannot write the job summary to %s: %s", summary_path, error.strerror)
