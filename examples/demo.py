"""Upload the sample results in examples/results to a local stand-in server and show the run.

`make demo` runs this. It starts `xltv serve` on 127.0.0.1 with a free port and a temporary
data folder, runs `xltv upload` against it, prints what the server stored, stops the server
and exits with the exit code of `xltv upload`. Both commands run as `python -m xltv` with
this interpreter, so xltv must be installed in it or this script run from the repository root.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
RESULTS = REPOSITORY / "examples" / "results"
TEST_SPECIFICATION = "demo-unit-tests"
USERNAME = "admin"
PASSWORD = "admin"
SERVER_START_TIMEOUT_SECONDS = 30
SERVER_STOP_TIMEOUT_SECONDS = 10


class DemoError(Exception):
    """The stand-in server did not start."""


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def demo_environment() -> dict[str, str]:
    """Return this process's environment without xltv settings, so only the demo's flags count."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("XLTV_", "INPUT_"))
    }


def start_server(folder: Path, log_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start `xltv serve` and return the process and its URL once it listens."""
    port_file = folder / "port"
    command = [
        sys.executable,
        "-m",
        "xltv",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--data",
        str(folder / "data"),
        "--test-specification",
        TEST_SPECIFICATION,
        "--username",
        USERNAME,
    ]
    environment = demo_environment()
    environment["XLTV_SERVE_PASSWORD"] = PASSWORD

    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPOSITORY, env=environment, stdout=log, stderr=subprocess.STDOUT
        )

    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while not port_file.is_file():
        if process.poll() is not None:
            raise DemoError(f"xltv serve exited with code {process.returncode} before listening")
        if time.monotonic() > deadline:
            raise DemoError(f"xltv serve did not listen within {SERVER_START_TIMEOUT_SECONDS} s")
        time.sleep(0.1)

    port = int(port_file.read_text().strip())
    return process, f"http://127.0.0.1:{port}"


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return

    process.terminate()
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def upload(server_url: str) -> int:
    """Run `xltv upload` with its output passed through, and return its exit code."""
    command = [
        sys.executable,
        "-m",
        "xltv",
        "upload",
        "--server-url",
        server_url,
        "--username",
        USERNAME,
        "--test-specification",
        TEST_SPECIFICATION,
        "--root",
        str(RESULTS),
        "--include",
        "**/*.xml",
    ]
    environment = demo_environment()
    environment["XLTV_PASSWORD"] = PASSWORD

    print("$ " + shlex.join(["xltv", *command[3:]]), flush=True)
    completed = subprocess.run(command, cwd=REPOSITORY, env=environment, check=False)
    return completed.returncode


def print_runs(data: Path) -> None:
    """Print the metadata, the request line and the files of every run the server stored."""
    runs_folder = data / "runs"
    runs = sorted(runs_folder.iterdir()) if runs_folder.is_dir() else []
    if not runs:
        print("The server stored no run.")
        return

    for run in runs:
        heading(f"Stored run {run.name}")

        request = json.loads((run / "request.json").read_text(encoding="utf-8"))
        print(f"request: {request['method']} {request['path']}, {request['bodyBytes']} body bytes")

        print("metadata.json:")
        metadata = (run / "metadata.json").read_text(encoding="utf-8")
        print("    " + metadata.replace("\n", "\n    "))

        print("files:")
        for path in sorted(run.rglob("*")):
            if path.is_file():
                print(f"    {path.relative_to(run).as_posix()} ({path.stat().st_size} bytes)")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="xltv-demo-") as temporary:
        folder = Path(temporary)
        log_file = folder / "serve.log"
        process: subprocess.Popen[bytes] | None = None
        exit_code = 1
        try:
            heading("Starting the stand-in server (xltv serve)")
            process, server_url = start_server(folder, log_file)
            print(f"listening on {server_url}, data folder {folder / 'data'}")

            heading(f"Uploading {RESULTS.relative_to(REPOSITORY)}/**/*.xml (xltv upload)")
            exit_code = upload(server_url)
            print(f"xltv upload exited with code {exit_code}")

            print_runs(folder / "data")
        except DemoError as error:
            print(f"demo failed: {error}; the server log is below", file=sys.stderr)
        finally:
            if process is not None:
                heading("Stopping the stand-in server")
                stop_server(process)
            if log_file.is_file():
                heading("Server log")
                print(log_file.read_text(encoding="utf-8", errors="replace").rstrip(), flush=True)

    return exit_code


if __name__ == "__main__":
    sys.exit(main())
