#!/usr/bin/env python3
"""Start xltv in a container or a CI step.

With no arguments, or when the first argument is an option, this runs `xltv upload`, so an
action step and `docker run IMAGE --server-url ...` both upload.
"""

import sys

from xltv.cli import main


def upload_by_default(arguments: list[str]) -> list[str]:
    """Prepend `upload` when no command is named."""
    if not arguments or (
        arguments[0].startswith("-") and arguments[0] not in ("-h", "--help", "--version")
    ):
        return ["upload", *arguments]
    return arguments


if __name__ == "__main__":
    sys.exit(main(upload_by_default(sys.argv[1:])))
