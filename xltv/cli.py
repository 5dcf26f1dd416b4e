"""The `xltv` command: read the environment once, set up logging, run, map errors to exit codes.

No other module calls sys.exit; errors travel as XltvError subclasses and end here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from xltv import __version__
from xltv.errors import EXIT_UPLOAD_FAILED, SettingsError, XltvError
from xltv.settings import SETTINGS, SETTINGS_BY_NAME

log = logging.getLogger("xltv")

EXIT_INTERRUPTED = 130
TOP_LEVEL_OPTIONS = ("-h", "--help", "--version")
MIN_REDACTED = 4


class RedactingFilter(logging.Filter):
    """Replace the password in every log record, as a last guard against leaks.

    Passwords shorter than MIN_REDACTED characters are left alone: replacing every "e" of
    the log would make it unreadable and hide nothing.
    """

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg = message.replace(self.secret, "***")
            record.args = None
        return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xltv",
        allow_abbrev=False,
        description="Import test results into an XL TestView server.",
    )
    parser.add_argument("--version", action="version", version=f"xltv {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    upload = commands.add_parser(
        "upload",
        allow_abbrev=False,
        help="import result files as a test run",
        description="Import result files into XL TestView as a test run. Every option is also "
        "an action input NAME, a variable XLTV_NAME and a config file key; the password comes "
        "only from the password input or the XLTV_PASSWORD variable.",
    )
    for setting in SETTINGS:
        if not setting.has_flag:
            continue
        options: dict[str, Any] = {"help": setting.help, "default": None}
        if setting.kind == "boolean":
            options.update(nargs="?", const="true", metavar="true|false")
        elif setting.kind in ("metadata", "patterns"):
            options.update(
                action="append", metavar="KEY=VALUE" if setting.kind == "metadata" else "PATTERNS"
            )
        elif setting.kind == "choice":
            options.update(metavar="|".join(setting.choices))
        if setting.default is not None and setting.kind != "boolean":
            options["help"] += f" (default: {setting.default})"
        upload.add_argument(setting.flag, dest=setting.name, **options)
    # A password on the command line ends up in logs and process lists. This hidden flag
    # lets the error explain that without argparse echoing the value.
    upload.add_argument("--password", dest="password_flag", help=argparse.SUPPRESS)

    serve = commands.add_parser(
        "serve",
        allow_abbrev=False,
        help="run the local stand-in server for demos and tests",
        description="Run a local stand-in for the XL TestView import API, for trying "
        "pipelines and for tests. It is not XL TestView.",
    )
    from xltv.server_options import add_arguments

    add_arguments(serve)
    return parser


def flag_values(arguments: argparse.Namespace) -> dict[str, Any]:
    """Return the flags given, by setting name; pattern flags joined into one list."""
    values = {}
    for name in SETTINGS_BY_NAME:
        value = getattr(arguments, name, None)
        if value is not None:
            values[name] = value
    return values


def secret_of(environ: Mapping[str, str]) -> str:
    """Return the password as the settings resolve it, or "" when it is not set."""
    from xltv.settings import Sources

    value = Sources(environ=environ).lookup("password")
    return "" if value is None else str(value.raw)


def run_upload(arguments: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from xltv.outputs import configure_logging, in_github_actions, mask

    github = in_github_actions(environ)
    secret = secret_of(environ) or (arguments.password_flag or "").strip()
    if github and secret:
        mask(secret)
    verbose = environ.get("RUNNER_DEBUG") == "1" or str(arguments.verbose).lower() == "true"
    configure_logging(verbose, github)
    if len(secret) >= MIN_REDACTED:
        for handler in log.handlers:
            handler.addFilter(RedactingFilter(secret))

    from xltv.plan import make_plan
    from xltv.upload import run

    warn_unknown_variables(environ)
    try:
        if arguments.password_flag is not None:
            raise SettingsError(
                "the password cannot be a flag, because command lines end up in logs; pass "
                "it as a secret through the password input or the XLTV_PASSWORD variable"
            )
        plan = make_plan(flag_values(arguments), environ)
        if plan.verbose:
            log.setLevel(logging.DEBUG)
        return run(plan, environ)
    except XltvError as error:
        log.error("%s", error)
        report_failure(str(error), flag_values(arguments), environ)
        return error.exit_code


def warn_unknown_variables(environ: Mapping[str, str]) -> None:
    """Warn about an XLTV_ variable that looks like a misspelt setting, which would be ignored."""
    import difflib

    known = [setting.variable for setting in SETTINGS]
    for variable in sorted(environ):
        if not variable.startswith("XLTV_") or variable in known:
            continue
        close = difflib.get_close_matches(variable, known, n=1, cutoff=0.8)
        if close:
            log.warning(
                "Ignored variable %s: no such setting; did you mean %s?", variable, close[0]
            )


def report_failure(reason: str, flags: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Write outputs, the dotenv file and the summary of a run that stopped before any upload,
    so that later jobs and steps see status `failed` rather than nothing."""
    from xltv.outputs import (
        UploadReport,
        output_values,
        write_dotenv,
        write_github_outputs,
        write_summary,
    )
    from xltv.settings import Sources

    report = UploadReport(test_specification="-", reason=reason)
    dotenv = Sources(flags=flags, environ=environ).lookup("dotenv-file")
    try:
        if dotenv is not None:
            write_dotenv(str(dotenv.raw).strip(), output_values([report]))
        if environ.get("GITHUB_OUTPUT"):
            write_github_outputs(environ["GITHUB_OUTPUT"], output_values([report]))
        if environ.get("GITHUB_STEP_SUMMARY"):
            write_summary(
                environ["GITHUB_STEP_SUMMARY"],
                f"### XL TestView import\n\nThe upload did not start: {reason}\n",
            )
    except OSError as error:
        log.warning("Cannot write the outputs: %s", error.strerror)


def upload_by_default(argv: Sequence[str]) -> list[str]:
    """Prepend `upload` when the first argument is an option other than help or version, so
    `xltv --server-url ...` and `docker run IMAGE --server-url ...` upload."""
    arguments = list(argv)
    if arguments and arguments[0].startswith("-") and arguments[0] not in TOP_LEVEL_OPTIONS:
        return ["upload", *arguments]
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    arguments = parser.parse_args(upload_by_default(sys.argv[1:] if argv is None else argv))
    environ = dict(os.environ)

    try:
        if arguments.command == "upload":
            return run_upload(arguments, environ)
        if arguments.command == "serve":
            from xltv.server import serve

            return serve(arguments, environ)
        parser.print_help()
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("xltv: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as error:
        # A bug, not a user error: one line, no traceback unless debugging is on.
        if log.isEnabledFor(logging.DEBUG):
            log.exception("internal error")
        secret = secret_of(environ)
        text = f"{type(error).__name__}: {error}"
        if secret:
            text = text.replace(secret, "***")
        sys.stderr.write(f"xltv: internal error: {text}; please report it as a bug\n")
        return EXIT_UPLOAD_FAILED
