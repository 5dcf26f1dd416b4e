"""Measure xltv against `zip | curl` and `find`, and write docs/benchmarks.md.

Run by `make bench`, never by `make test`. In one run on one machine it:

1. generates its inputs in a temporary folder:
   (a) about 2,000 JUnit XML files, about 50 MB,
   (b) 100,000 small files in 20,000 folders, half under `node_modules`,
   (c) one 1 GiB result file;
2. starts an HTTP server on 127.0.0.1 that reads and discards request bodies;
3. times `xltv upload`, `zip | curl`, `find`, `xltv --version` and `python -c pass` in
   fresh processes, several runs each, and reads each process's peak resident memory
   from GNU time;
4. writes the figures, the machine and the commands to docs/benchmarks.md, between the
   markers `<!-- bench:begin -->` and `<!-- bench:end -->` when the file has them, so the
   text around them is kept.

All traffic goes to 127.0.0.1. The temporary folder is removed at the end, also after
an error, unless --keep is given.
"""

from __future__ import annotations

import argparse
import datetime
import http.server
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
PASSWORD = "bench-secret-password"
MIB = 1024 * 1024
GIB = 1024 * MIB
TIME = "/usr/bin/time"
BEGIN_MARKER = "<!-- bench:begin -->"
END_MARKER = "<!-- bench:end -->"

# Targets: upload ratio, peak memory, collection ratio and start-up time over bare Python.
TARGET_UPLOAD_RATIO = 1.10
TARGET_PEAK_MIB = 64.0
# "Not growing with input size": the 1 GiB file may cost at most this much more memory
# than the 50 MB of input (a). A buffer that grows with the input would exceed it many times.
TARGET_GROWTH_MIB = 8.0
TARGET_COLLECT_RATIO = 2.0
TARGET_STARTUP_MS = 150.0


# --- The loopback server ---------------------------------------------------------------


@dataclass
class Received:
    """The method, path, body size and transfer mode of the last request, for checks."""

    method: str = ""
    path: str = ""
    body_bytes: int = 0
    chunked: bool = False
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class DiscardingHandler(http.server.BaseHTTPRequestHandler):
    """Read the request body, chunked or with Content-Length, and throw it away."""

    # HTTP/1.1 also makes the base class send 100 Continue to curl's Expect: 100-continue.
    protocol_version = "HTTP/1.1"
    rbufsize = 256 * 1024
    received: Received  # set on the subclass made by start_server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        body_bytes = self.discard_chunked() if chunked else self.discard_length()
        with self.received.lock:
            self.received.method = self.command
            self.received.path = self.path
            self.received.body_bytes = body_bytes
            self.received.chunked = chunked
            self.received.count += 1
        self.answer(b'{"testRunId": "bench"}')

    def do_PUT(self) -> None:
        self.do_POST()

    def do_GET(self) -> None:
        if self.path.endswith("/api/v1/info"):
            self.answer(b'{"name": "bench", "vendor": "bench", "version": "1.4.4"}')
        else:
            self.answer(b"{}")

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def discard_length(self) -> int:
        remaining = int(self.headers.get("Content-Length") or 0)
        total = 0
        buffer = memoryview(bytearray(1024 * 1024))
        while remaining > 0:
            count = self.rfile.readinto(buffer[: min(remaining, len(buffer))])
            if not count:
                break
            remaining -= count
            total += count
        return total

    def discard_chunked(self) -> int:
        total = 0
        while True:
            size_line = self.rfile.readline(1024)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return total
            while size > 0:
                data = self.rfile.read(min(size, 1024 * 1024))
                if not data:
                    return total
                size -= len(data)
                total += len(data)
            self.rfile.readline(1024)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_server() -> tuple[Server, Received]:
    received = Received()
    handler = type("Handler", (DiscardingHandler,), {"received": received})
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


# --- Input generation -------------------------------------------------------------------

WORDS = [
    "account",
    "address",
    "amount",
    "archive",
    "balance",
    "basket",
    "batch",
    "billing",
    "cache",
    "cart",
    "catalog",
    "channel",
    "checkout",
    "client",
    "config",
    "coupon",
    "currency",
    "customer",
    "delivery",
    "discount",
    "document",
    "entry",
    "event",
    "export",
    "feature",
    "filter",
    "gateway",
    "invoice",
    "item",
    "journal",
    "ledger",
    "limit",
    "listing",
    "locale",
    "order",
    "owner",
    "package",
    "payment",
    "period",
    "policy",
    "price",
    "product",
    "profile",
    "quota",
    "rate",
    "receipt",
    "refund",
    "region",
    "report",
    "request",
    "route",
    "schedule",
    "session",
    "shipment",
    "status",
    "stock",
    "store",
    "subscription",
    "tax",
    "tenant",
    "ticket",
    "token",
    "transfer",
    "user",
    "voucher",
    "warehouse",
]
VERBS = [
    "returns",
    "rejects",
    "computes",
    "creates",
    "updates",
    "deletes",
    "parses",
    "renders",
    "retries",
    "caches",
    "validates",
    "sorts",
    "merges",
    "loads",
    "exports",
    "imports",
    "applies",
    "cancels",
    "expires",
    "rounds",
]
CONDITIONS = [
    "WhenEmpty",
    "WhenMissing",
    "WhenExpired",
    "ForGuest",
    "ForAdmin",
    "WithLargeInput",
    "WithUnicodeName",
    "AfterTimeout",
    "OnSecondAttempt",
    "InLeapYear",
    "AcrossTimezones",
    "WithoutPermission",
    "Concurrently",
]
PACKAGES = [
    "billing",
    "accounts",
    "search",
    "checkout",
    "inventory",
    "shipping",
    "auth",
    "reports",
    "notifications",
    "catalog",
    "payments",
    "gateway",
    "pricing",
    "ledger",
]
LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR")
FRAMEWORK_FRAMES = (
    "\tat org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)",
    "\tat org.junit.jupiter.api.AssertEquals.failNotEqual(AssertEquals.java:197)",
    "\tat org.junit.jupiter.api.Assertions.assertEquals(Assertions.java:1141)",
    "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
    "\tat java.base/java.lang.reflect.Method.invoke(Method.java:568)",
    "\tat org.junit.platform.commons.util.ReflectionUtils.invokeMethod(ReflectionUtils.java:727)",
    "\tat org.junit.jupiter.engine.execution.MethodInvocation.proceed(MethodInvocation.java:60)",
    "\tat org.gradle.api.internal.tasks.testing.junitplatform.JUnitPlatformTestClassProcessor"
    ".execute(JUnitPlatformTestClassProcessor.java:94)",
)


def camel(word: str) -> str:
    return word[:1].upper() + word[1:]


def class_name(rng: random.Random) -> str:
    package = rng.choice(PACKAGES)
    return f"com.example.{package}.{camel(rng.choice(WORDS))}{camel(rng.choice(WORDS))}Test"


def test_name(rng: random.Random) -> str:
    name = f"{rng.choice(VERBS)}{camel(rng.choice(WORDS))}{rng.choice(CONDITIONS)}"
    if rng.random() < 0.3:
        name += f"[{rng.randint(1, 40)}]"
    return name


def log_line(rng: random.Random, classname: str) -> str:
    stamp = (
        f"2024-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}T{rng.randint(0, 23):02}:"
        f"{rng.randint(0, 59):02}:{rng.randint(0, 59):02}.{rng.randint(0, 999):03}Z"
    )
    logger = classname.rsplit(".", 1)[0] + "." + camel(rng.choice(WORDS)) + "Service"
    message = (
        f"{rng.choice(VERBS)} {rng.choice(WORDS)} id={rng.getrandbits(64):016x} "
        f"{rng.choice(WORDS)}={rng.randint(0, 100000)} in {rng.randint(0, 900)} ms"
    )
    return f"{stamp} {rng.choice(LEVELS)} [worker-{rng.randint(1, 16)}] {logger} - {message}"


def failure(rng: random.Random, classname: str, method: str) -> str:
    expected, actual = rng.randint(0, 5000), rng.randint(0, 5000)
    message = f"expected: &lt;{expected}&gt; but was: &lt;{actual}&gt;"
    simple = classname.rsplit(".", 1)[1]
    frames = [f"org.opentest4j.AssertionFailedError: {message}"]
    frames += FRAMEWORK_FRAMES[: rng.randint(2, 4)]
    method_name = method.split("[")[0]
    frames.append(f"\tat {classname}.{method_name}({simple}.java:{rng.randint(20, 900)})")
    for _ in range(rng.randint(4, 14)):
        other = f"com.example.{rng.choice(PACKAGES)}.{camel(rng.choice(WORDS))}Service"
        line = rng.randint(10, 700)
        frames.append(f"\tat {other}.{rng.choice(VERBS)}({other.rsplit('.', 1)[1]}.java:{line})")
    frames += FRAMEWORK_FRAMES[4:]
    return (
        f'<failure message="{message}" type="org.opentest4j.AssertionFailedError">'
        + "\n".join(frames)
        + "</failure>"
    )


def junit_suite(rng: random.Random, target_size: int) -> str:
    """Return one <testsuite> element of about target_size characters."""
    classname = class_name(rng)
    cases = []
    failures = skipped = 0
    total_time = 0.0
    for _ in range(rng.randint(3, 60)):
        method = test_name(rng)
        seconds = rng.random() ** 3 * 4
        total_time += seconds
        head = f'    <testcase name="{method}" classname="{classname}" time="{seconds:.3f}"'
        roll = rng.random()
        if roll < 0.05:
            failures += 1
            cases.append(f"{head}>\n      {failure(rng, classname, method)}\n    </testcase>")
        elif roll < 0.08:
            skipped += 1
            cases.append(f"{head}>\n      <skipped/>\n    </testcase>")
        else:
            cases.append(f"{head}/>")
    body = "\n".join(cases)

    lines: list[str] = []
    size = len(body) + 400
    while size < target_size:
        line = log_line(rng, classname)
        lines.append(line)
        size += len(line) + 1
    hour, minute = rng.randint(0, 23), rng.randint(0, 59)
    return (
        f'  <testsuite name="{classname}" tests="{len(cases)}" skipped="{skipped}" '
        f'failures="{failures}" errors="0" timestamp="2024-05-14T{hour:02}:{minute:02}:00" '
        f'hostname="runner-{rng.randint(1, 40)}" time="{total_time:.3f}">\n'
        f"    <properties/>\n{body}\n"
        f"    <system-out><![CDATA[{chr(10).join(lines)}\n]]></system-out>\n"
        "    <system-err><![CDATA[]]></system-err>\n"
        "  </testsuite>\n"
    )


def generate_results(folder: Path, files: int, mean_size: int, rng: random.Random) -> int:
    """Write input (a): JUnit XML files in Gradle's layout. Return the bytes written."""
    total = 0
    modules = max(1, files // 50)
    for index in range(files):
        target = rng.randint(mean_size // 5, mean_size * 9 // 5)
        suite = junit_suite(rng, target)
        classname = re.search(r'name="([^"]+)"', suite)
        assert classname is not None
        module = folder / f"module-{index % modules:02}" / "build" / "test-results" / "test"
        module.mkdir(parents=True, exist_ok=True)
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + suite.replace("  <", "<", 1)
        data = text.encode()
        (module / f"TEST-{classname.group(1)}-{index}.xml").write_bytes(data)
        total += len(data)
    return total


def generate_tree(folder: Path, leaf_folders: int, rng: random.Random) -> tuple[int, int]:
    """Write input (b): half the leaf folders under node_modules, 5 small files in each.

    Outside node_modules each leaf contains 4 result files (*.xml) and 1 other file. Inside,
    each package contains 2 *.xml fixtures and 3 other files, which the exclude pattern drops.
    Return (files written, *.xml files outside node_modules).
    """
    packages = 100
    per_package = max(1, leaf_folders // (2 * packages))
    files = selected = 0
    small = '<testsuite name="{name}" tests="1"><testcase name="{name}"/></testsuite>\n'
    for package in range(packages):
        for index in range(per_package):
            leaf = folder / f"app-{package:03}" / "build" / f"results-{index:03}"
            leaf.mkdir(parents=True)
            for number in range(4):
                name = f"{rng.choice(VERBS)}{camel(rng.choice(WORDS))}{number}"
                (leaf / f"TEST-{name}.xml").write_text(small.format(name=name))
            (leaf / "output.txt").write_text(f"{rng.getrandbits(128):032x}\n")
            files += 5
            selected += 4

            module = folder / f"app-{package:03}" / "node_modules" / f"lib-{index:03}"
            module.mkdir(parents=True)
            (module / "package.json").write_text(f'{{"name": "lib-{index}"}}\n')
            (module / "index.js").write_text("module.exports = {};\n")
            (module / "README.md").write_text("# lib\n")
            (module / "junit.xml").write_text(small.format(name=f"lib{index}"))
            (module / "fixture.xml").write_text("<fixture/>\n")
            files += 5
    return files, selected


def generate_large_file(path: Path, size: int, rng: random.Random) -> int:
    """Write input (c): one JUnit file of at least `size` bytes from a few varied blocks.

    Deflate looks back 32 KiB only, so repeating 2 MiB blocks compresses like fresh text.
    """
    blocks = [junit_suite(rng, 2 * MIB).encode() for _ in range(4)]
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("wb") as stream:
        head = b'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
        tail = b"</testsuites>\n"
        stream.write(head)
        written += len(head)
        index = 0
        while written + len(tail) < size:
            stream.write(blocks[index % len(blocks)])
            written += len(blocks[index % len(blocks)])
            index += 1
        stream.write(tail)
        written += len(tail)
    return written


# --- Running and measuring --------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    max_rss_mib: float


def run_measured(
    command: Sequence[str], env: dict[str, str], cwd: Path, log: Path, check: bool = True
) -> Run:
    """Run a command in a fresh process; return its wall time and peak resident memory.

    GNU time reads the peak. os.wait4 would not do: a child that Python forks starts with
    the peak of Python's own memory in its ru_maxrss. GNU time itself is too small to count.
    """
    peak_file = log.with_suffix(".rss")
    timed = [TIME, "-f", "%M", "-o", str(peak_file), *command]
    with log.open("wb") as errors:
        start = time.perf_counter()
        returncode = subprocess.call(
            timed, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
        seconds = time.perf_counter() - start
    if check and returncode != 0:
        raise SystemExit(
            f"bench: command failed with exit code {returncode}: "
            f"{shlex.join(command)}\n{log.read_text(errors='replace')[-3000:]}"
        )
    # %M is in KiB; a failed command adds a line before it.
    peak_kib = int(peak_file.read_text().split()[-1])
    return Run(seconds, peak_kib / 1024)


@dataclass
class Series:
    """Several runs of one command."""

    runs: list[Run] = field(default_factory=list)

    def seconds(self) -> list[float]:
        return [run.seconds for run in self.runs]

    def rss(self) -> list[float]:
        return [run.max_rss_mib for run in self.runs]


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    return f"{min(values) * scale:.{digits}f} to {max(values) * scale:.{digits}f}"


def interleave(count: int, measures: list[Callable[[], Run]], warm_up: bool = True) -> list[Series]:
    """Run each measure `count` times, taking turns, after one untimed warm-up of each."""
    if warm_up:
        for measure in measures:
            measure()
    series = [Series() for _ in measures]
    for _ in range(count):
        for index, measure in enumerate(measures):
            series[index].runs.append(measure())
    return series


# --- The benchmark ----------------------------------------------------------------------


@dataclass
class Context:
    work: Path
    xltv: str
    python: str
    url: str
    env: dict[str, str]
    received: Received
    runs: int
    commands: dict[str, str] = field(default_factory=dict)

    def log(self, name: str) -> Path:
        return self.work / "logs" / f"{name}.log"

    def shown(self, command: Sequence[str] | str) -> str:
        """Return the command as text, with the temporary folder and port made readable."""
        text = command if isinstance(command, str) else shlex.join(command)
        text = text.replace(str(self.work), "$BENCH").replace(str(REPOSITORY) + "/", "")
        return text.replace(self.url, "http://127.0.0.1:$PORT")


def xltv_upload(context: Context, root: Path, *extra: str) -> list[str]:
    return [
        context.xltv,
        "upload",
        "--server-url",
        context.url,
        "--username",
        "bench",
        "--test-specification",
        "bench",
        "--root",
        str(root),
        "--include",
        "**/*.xml",
        *extra,
    ]


def measure_upload(context: Context, results: Path) -> dict[str, Any]:
    """Time xltv upload of (a) against zip | curl at level 6; return the figures."""
    xltv_command = xltv_upload(context, results, "--compression-level", "6")
    # zip stores the names relative to the current folder, like xltv relative to the root.
    pipeline = "zip -q -6 -r - . -i '*.xml' | curl -sS -o /dev/null -T - -X POST " + shlex.quote(
        context.url + "/api/internal/import/bench"
    )
    pipeline_command = ["sh", "-c", pipeline]
    context.commands["upload (a), xltv"] = (
        f"cd $BENCH/a && XLTV_PASSWORD=... {context.shown(xltv_command)}"
    )
    context.commands["upload (a), pipeline"] = f"cd $BENCH/a && {context.shown(pipeline)}"

    sizes: dict[str, int] = {}

    def xltv() -> Run:
        run = run_measured(xltv_command, context.env, results, context.log("upload-a-xltv"))
        sizes["xltv"] = context.received.body_bytes
        sizes["xltv chunked"] = int(context.received.chunked)
        return run

    def zip_curl() -> Run:
        run = run_measured(pipeline_command, context.env, results, context.log("upload-a-zip"))
        sizes["pipeline"] = context.received.body_bytes
        return run

    xltv_series, pipeline_series = interleave(context.runs, [xltv, zip_curl])
    ratio = median(xltv_series.seconds()) / median(pipeline_series.seconds())
    return {
        "xltv": xltv_series,
        "pipeline": pipeline_series,
        "ratio": ratio,
        "xltv_bytes": sizes["xltv"],
        "pipeline_bytes": sizes["pipeline"],
        "xltv_chunked": bool(sizes["xltv chunked"]),
    }


def measure_memory(context: Context, root: Path, name: str, runs: int, *extra: str) -> Series:
    command = xltv_upload(context, root, *extra)
    context.commands[f"peak memory ({name})"] = f"XLTV_PASSWORD=... {context.shown(command)}"
    return interleave(
        runs,
        [lambda: run_measured(command, context.env, root, context.log(f"memory-{name}"))],
        warm_up=False,
    )[0]


def measure_collection(context: Context, tree: Path, expected: int) -> dict[str, Any]:
    """Time xltv's collection of (b) against find with -prune; check both find the same."""
    # `xltv upload --dry-run` also builds the zip, so the collection runs alone here: the
    # same function that `xltv upload` calls, in a fresh interpreter like the upload's.
    xltv_command = [
        context.python,
        "-c",
        "import sys; from xltv.collect import Selection, collect; "
        "print(len(collect(sys.argv[1], Selection.parse(['**/*.xml'], ['**/node_modules/**']))))",
        str(tree),
    ]
    find_command = [
        "find",
        str(tree),
        "-type",
        "d",
        "-name",
        "node_modules",
        "-prune",
        "-o",
        "-type",
        "f",
        "-name",
        "*.xml",
        "-print",
    ]
    context.commands["collection (b), xltv"] = context.shown(xltv_command)
    context.commands["collection (b), find"] = context.shown(find_command)

    found = subprocess.run(find_command, capture_output=True, check=True).stdout.count(b"\n")
    collected = subprocess.run(xltv_command, capture_output=True, check=True, env=context.env)
    if found != expected or int(collected.stdout) != expected:
        raise SystemExit(
            f"bench: in (b) find listed {found} files and xltv collected "
            f"{int(collected.stdout)}, expected {expected}"
        )

    xltv_series, find_series = interleave(
        context.runs,
        [
            lambda: run_measured(xltv_command, context.env, tree, context.log("collect-xltv")),
            lambda: run_measured(find_command, context.env, tree, context.log("collect-find")),
        ],
    )
    return {
        "xltv": xltv_series,
        "find": find_series,
        "ratio": median(xltv_series.seconds()) / median(find_series.seconds()),
        "files": found,
    }


def measure_startup(context: Context, runs: int) -> dict[str, Any]:
    version = [context.xltv, "--version"]
    bare = [context.python, "-c", "pass"]
    context.commands["start-up, xltv"] = context.shown(version)
    context.commands["start-up, python"] = context.shown(bare)
    xltv_series, python_series = interleave(
        runs,
        [
            lambda: run_measured(version, context.env, context.work, context.log("version")),
            lambda: run_measured(bare, context.env, context.work, context.log("python")),
        ],
    )
    difference = median(xltv_series.seconds()) - median(python_series.seconds())
    return {"xltv": xltv_series, "python": python_series, "difference_ms": difference * 1000}


def measure_levels(context: Context, results: Path, input_bytes: int) -> list[dict[str, Any]]:
    rows = []
    for level in (0, 1, 6, 9):
        command = xltv_upload(context, results, "--compression-level", str(level))
        context.commands[f"compression level {level}"] = (
            f"XLTV_PASSWORD=... {context.shown(command)}"
        )
        sizes: list[int] = []

        def upload(command: list[str] = command, sizes: list[int] = sizes) -> Run:
            run = run_measured(command, context.env, results, context.log("levels"))
            sizes.append(context.received.body_bytes)
            return run

        series = interleave(context.runs, [upload])[0]
        rows.append(
            {"level": level, "series": series, "bytes": sizes[-1], "input_bytes": input_bytes}
        )
    return rows


# --- The report -------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def first_line(command: list[str]) -> str:
        try:
            output = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError:
            return "missing"
        text = output.stdout or output.stderr
        return text.strip().splitlines()[0] if text.strip() else "unknown"

    python = sys.executable.replace(str(REPOSITORY) + "/", "")
    return {
        "cores": str(os.cpu_count()),
        "CPU": model,
        "Python": f"{platform.python_version()} ({python})",
        "system": f"{platform.system()} {platform.release()}",
        "zip": zip_version(),
        "curl": " ".join(first_line(["curl", "--version"]).split()[:2]),
        "find": first_line(["find", "--version"]),
    }


def zip_version() -> str:
    output = subprocess.run(["zip", "-v"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"This is (Zip [^ ]+)", output)
    return found.group(1) if found else "unknown"


def verdict(passed: bool) -> str:
    return "pass" if passed else "**fail**"


def report(figures: dict[str, Any], scale: float, elapsed: float) -> str:
    upload = figures["upload"]
    collection = figures["collection"]
    startup = figures["startup"]
    memory: dict[str, Series] = figures["memory"]
    inputs: dict[str, str] = figures["inputs"]
    context: Context = figures["context"]
    assert isinstance(upload, dict)
    assert isinstance(collection, dict)
    assert isinstance(startup, dict)

    peaks = {name: max(series.rss()) for name, series in memory.items()}
    growth = peaks["c"] - peaks["a"]
    memory_ok = max(peaks.values()) <= TARGET_PEAK_MIB and growth <= TARGET_GROWTH_MIB
    lines = [
        BEGIN_MARKER,
        "",
        f"Measured on {datetime.date.today().isoformat()} by `make bench` "
        f"(`benchmarks/bench.py`), {elapsed / 60:.1f} minutes in all"
        + (f", inputs scaled by {scale:g}" if scale != 1 else "")
        + ".",
        "",
        "### Targets",
        "",
        "| measure | target | measured | result |",
        "| --- | --- | --- | --- |",
        f"| upload (a), xltv / `zip \\| curl` | ≤ {TARGET_UPLOAD_RATIO:.2f} | "
        f"{upload['ratio']:.2f} | {verdict(upload['ratio'] <= TARGET_UPLOAD_RATIO)} |",
        f"| peak memory, (a) / (b) / (c) | ≤ {TARGET_PEAK_MIB:.0f} MiB, (c) at most "
        f"{TARGET_GROWTH_MIB:.0f} MiB over (a) | "
        f"{peaks['a']:.1f} / {peaks['b']:.1f} / {peaks['c']:.1f} MiB, (c) - (a) = "
        f"{growth:+.1f} MiB | {verdict(memory_ok)} |",
        f"| collection of (b), xltv / `find` | ≤ {TARGET_COLLECT_RATIO:.1f} | "
        f"{collection['ratio']:.2f} | {verdict(collection['ratio'] <= TARGET_COLLECT_RATIO)} |",
        f"| start-up over bare Python | ≤ {TARGET_STARTUP_MS:.0f} ms | "
        f"{startup['difference_ms']:.0f} ms | "
        f"{verdict(startup['difference_ms'] <= TARGET_STARTUP_MS)} |",
        "",
        "### Figures",
        "",
        "Wall time of a fresh process, and its peak resident set size as GNU time reports it. "
        "Median of the runs, and the range from fastest to slowest. One untimed warm-up run "
        "precedes each series, so files are in the page cache.",
        "",
        "| measure | runs | median | range |",
        "| --- | --- | --- | --- |",
    ]

    def row(name: str, series: Series, unit: str = "s", scale_by: float = 1.0) -> str:
        values = series.seconds()
        digits = 3 if unit == "s" else 0
        return (
            f"| {name} | {len(values)} | {median(values) * scale_by:.{digits}f} {unit} | "
            f"{spread(values, scale_by, digits)} {unit} |"
        )

    def rss_row(name: str, series: Series) -> str:
        values = series.rss()
        return (
            f"| {name} | {len(values)} | {median(values):.1f} MiB | "
            f"{spread(values, digits=1)} MiB |"
        )

    lines += [
        row("upload (a), `xltv upload`", upload["xltv"]),
        row("upload (a), `zip \\| curl`", upload["pipeline"]),
        row("collection (b), `xltv.collect.collect`", collection["xltv"]),
        row("collection (b), `find -prune`", collection["find"]),
        row("start-up, `xltv --version`", startup["xltv"], "ms", 1000),
        row("start-up, `python -c pass`", startup["python"], "ms", 1000),
        rss_row("peak memory, upload (a)", memory["a"]),
        rss_row("peak memory, upload (b)", memory["b"]),
        rss_row("peak memory, upload (c)", memory["c"]),
        row("upload (c), `xltv upload`", memory["c"]),
        "",
        f"Request bodies at level 6: xltv {upload['xltv_bytes']:,} bytes "
        f"({'chunked' if upload['xltv_chunked'] else 'Content-Length'}), `zip | curl` "
        f"{upload['pipeline_bytes']:,} bytes (chunked). The collection runs found "
        f"{collection['files']:,} files in (b), by both tools.",
        "",
        "### Compression level",
        "",
        "`xltv upload` of input (a) at each `compression-level`: wall time and the size of "
        "the request body.",
        "",
        "| level | median time | range | body size | body / input |",
        "| --- | --- | --- | --- | --- |",
    ]
    for level_row in figures["levels"]:
        series = level_row["series"]
        values = series.seconds()
        lines.append(
            f"| {level_row['level']} | {median(values):.2f} s | {spread(values)} s | "
            f"{level_row['bytes'] / MIB:.1f} MiB | "
            f"{level_row['bytes'] / level_row['input_bytes']:.3f} |"
        )

    lines += ["", "### Inputs", ""]
    lines += [f"- ({name}) {text}" for name, text in inputs.items()]
    lines += ["", "### Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in machine().items()]
    lines += [
        "",
        "### Commands",
        "",
        "`$BENCH` is the temporary folder and `$PORT` the port of the discarding server. "
        "The environment holds only PATH, HOME, LANG and XLTV_PASSWORD.",
        "",
        "```sh",
    ]
    lines += [f"# {name}\n{command}" for name, command in context.commands.items()]
    lines += ["```", "", END_MARKER]
    return "\n".join(lines) + "\n"


def write_report(path: Path, section: str) -> None:
    if path.exists():
        text = path.read_text()
        begin, end = text.find(BEGIN_MARKER), text.find(END_MARKER)
        if begin != -1 and end > begin:
            path.write_text(text[:begin] + section + text[end + len(END_MARKER) + 1 :])
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Benchmarks\n\n" + section)


def find_xltv() -> str:
    beside = Path(sys.executable).parent / "xltv"
    if beside.exists():
        return str(beside)
    found = shutil.which("xltv")
    if found is None:
        raise SystemExit("bench: the xltv command was not found; run `make bench` or pip install .")
    return found


def check_tools() -> None:
    missing = [tool for tool in ("zip", "curl", "find") if shutil.which(tool) is None]
    if not Path(TIME).exists():
        missing.append("time")
    if missing:
        raise SystemExit(
            f"bench: missing {', '.join(missing)}; install with "
            f"`apt-get install -y {' '.join(missing)}` (make bench does this on Debian)"
        )


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure (5)")
    parser.add_argument(
        "--startup-runs", type=int, default=20, help="timed runs of the start-up measure (20)"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply input sizes and file counts by this, for a quick check (1)",
    )
    parser.add_argument("--xltv", default=None, help="the xltv command (default: beside python)")
    parser.add_argument(
        "--output",
        type=Path,
        default=REPOSITORY / "docs" / "benchmarks.md",
        help="report file (docs/benchmarks.md)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def stop_on_terminate(signal_number: int, frame: object) -> None:
    raise SystemExit(f"bench: stopped by signal {signal_number}")


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    check_tools()
    # A plain kill then still runs the clean-up below.
    signal.signal(signal.SIGTERM, stop_on_terminate)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="xltv-bench-"))
    (work / "logs").mkdir()
    (work / "home").mkdir()
    server, received = start_server()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(work / "home"),
            "LANG": "C.UTF-8",
            "XLTV_PASSWORD": PASSWORD,
        }
        context = Context(
            work=work,
            xltv=arguments.xltv or find_xltv(),
            python=sys.executable,
            url=url,
            env=env,
            received=received,
            runs=arguments.runs,
        )
        rng = random.Random(6)
        scale = arguments.scale

        print(f"bench: generating inputs in {work}", flush=True)
        results_bytes = generate_results(work / "a", max(10, int(2000 * scale)), 25_000, rng)
        tree_files, tree_selected = generate_tree(work / "b", max(200, int(20_000 * scale)), rng)
        large_bytes = generate_large_file(work / "c" / "TEST-large.xml", int(GIB * scale), rng)
        inputs = {
            "a": f"{len(list((work / 'a').rglob('*.xml'))):,} JUnit XML files in Gradle's "
            f"layout, {results_bytes / MIB:.1f} MiB, 5 to 45 KB each, with failures and logs",
            "b": f"{tree_files:,} small files in "
            f"{sum(1 for _ in (work / 'b').rglob('*') if _.is_dir()):,} folders, half under "
            f"`node_modules`; include `**/*.xml` selects {tree_selected:,}, exclude "
            "`**/node_modules/**` drops the rest",
            "c": f"one JUnit XML file of {large_bytes / GIB:.2f} GiB ({large_bytes:,} bytes)",
        }
        print(f"bench: inputs ready after {time.perf_counter() - started:.0f} s", flush=True)

        figures: dict[str, Any] = {"inputs": inputs, "context": context}
        steps: list[tuple[str, Callable[[], object]]] = [
            ("startup", lambda: measure_startup(context, arguments.startup_runs)),
            ("upload", lambda: measure_upload(context, work / "a")),
            ("collection", lambda: measure_collection(context, work / "b", tree_selected)),
            ("levels", lambda: measure_levels(context, work / "a", results_bytes)),
        ]
        for name, step in steps:
            step_start = time.perf_counter()
            figures[name] = step()
            print(f"bench: {name} took {time.perf_counter() - step_start:.0f} s", flush=True)

        step_start = time.perf_counter()
        upload = figures["upload"]
        assert isinstance(upload, dict)
        few = max(1, min(arguments.runs, 3))
        figures["memory"] = {
            "a": upload["xltv"],
            "b": measure_memory(context, work / "b", "b", few, "--exclude", "**/node_modules/**"),
            "c": measure_memory(context, work / "c", "c", few),
        }
        print(f"bench: memory took {time.perf_counter() - step_start:.0f} s", flush=True)

        section = report(figures, scale, time.perf_counter() - started)
        write_report(arguments.output, section)
        print(section)
        print(f"bench: wrote {arguments.output}")
    finally:
        server.shutdown()
        server.server_close()
        if arguments.keep:
            print(f"bench: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
