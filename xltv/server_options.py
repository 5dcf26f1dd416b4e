"""The options of `xltv serve`, apart from the server, so that building the command line
does not import http.server and its dependencies on every start of xltv."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="port; 0 picks a free one (default: 8080)"
    )
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument(
        "--data", default="xltv-data", help="folder for stored runs (default: xltv-data)"
    )
    parser.add_argument(
        "--test-specification",
        action="append",
        default=[],
        metavar="ID",
        help="a test specification id that accepts imports (repeatable)",
    )
    parser.add_argument("--context-path", default="", help="serve under this path, e.g. /xltv")
    parser.add_argument(
        "--username",
        default="admin",
        help="user name to accept (default: admin); the "
        "password comes from XLTV_SERVE_PASSWORD (default: admin)",
    )
    parser.add_argument(
        "--run-id-format",
        choices=("string", "array"),
        default="string",
        help="return testRunId as a string (as the Jenkins plugin's mock) or an array (as "
        "the public API docs)",
    )
