#!/usr/bin/env python3
"""Start xltv in a container or a CI step.

With no arguments, or when the first argument is an option, this runs `xltv upload`, so an
action step and `docker run IMAGE --server-url ...` both upload.
"""

import sys

from xltv.cli import main

if __name__ == "__main__":
    # With no arguments, upload with the settings from INPUT_ and XLTV_ variables.
    sys.exit(main(sys.argv[1:] or ["upload"]))
