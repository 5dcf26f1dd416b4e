"""Read a multipart request body with JavaMail, so the tests can check that xltv's body passes
the parser that the XL TestView Jenkins plugin's own tests use (jenkinsci/xltestview-plugin,
XLTestServerImplTest.verifyUploadRequest). That test passes the bare type `multipart/mixed`,
so JavaMail takes the boundary from the first line of the body that starts with `--`.

Needs `java`, `javac` and the JavaMail 1.6 jars, which Debian installs with
`apt-get install -y libmail-java default-jdk-headless`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    "install Java and JavaMail with: apt-get install -y libmail-java default-jdk-headless"
)
JAVA_SOURCE = Path(__file__).parent / "mime" / "ReadMultipart.java"
JAVA_CLASS = "ReadMultipart"
# Debian's libmail-java 1.6 installs these. javax.activation.jar comes with it as the
# libactivation-java dependency, and JavaMail needs it on Java 11 and newer.
JARS = (
    Path("/usr/share/java/javax.mail.jar"),
    Path("/usr/share/java/javax.activation.jar"),
)


class JavaMailUnavailableError(RuntimeError):
    """java, javac or the JavaMail jars are missing, or the Java source does not compile."""


class JavaMailParseError(RuntimeError):
    """JavaMail rejected the body."""


def read_with_javamail(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse BODY as the multipart that CONTENT_TYPE (a Content-Type header value) describes.

    Returns {"count", "complete", "preamble", "parts"}. "complete" is false when JavaMail found
    no closing boundary. Each part is {"index", "content_type", "length", "headers", "text"},
    where "length" is in bytes and "text" is the decoded content of an application/json part
    (None for other types). BODY must be free of chunked transfer coding.
    Raises JavaMailUnavailableError or JavaMailParseError.
    """
    java = _find_tool("java")
    class_folder = _compile_reader()

    with tempfile.TemporaryDirectory(prefix="xltv-javamail-body-") as folder:
        body_file = Path(folder) / "body"
        body_file.write_bytes(body)
        completed = subprocess.run(
            [java, "-cp", _class_path(class_folder), JAVA_CLASS, str(body_file), content_type],
            capture_output=True,
            check=False,
        )

    if completed.returncode != 0:
        raise JavaMailParseError(
            f"JavaMail rejected the body (exit code {completed.returncode}, "
            f"Content-Type {content_type!r}): {completed.stderr.decode(errors='replace').strip()}"
        )

    lines = completed.stdout.decode("ascii").splitlines()
    result: dict[str, Any] = json.loads(lines[0])
    result["parts"] = [json.loads(line) for line in lines[1:]]
    return result


def _find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise JavaMailUnavailableError(f"{name} not found on PATH; {INSTALL_HINT}")
    return path


def _class_path(*folders: Path) -> str:
    return ":".join(str(path) for path in (*folders, *JARS))


@functools.cache
def _compile_reader() -> Path:
    """Compile ReadMultipart.java once, into a temporary folder named by a hash of its inputs.

    Later runs reuse the folder until the source, the compiler or the jars change.
    """
    javac = _find_tool("javac")
    for jar in JARS:
        if not jar.is_file():
            raise JavaMailUnavailableError(f"JavaMail jar {jar} not found; {INSTALL_HINT}")

    inputs = hashlib.sha256(JAVA_SOURCE.read_bytes())
    for path in (Path(javac).resolve(), *(jar.resolve() for jar in JARS)):
        inputs.update(str(path).encode())
    folder = Path(tempfile.gettempdir()) / f"xltv-javamail-{inputs.hexdigest()[:16]}"
    if (folder / f"{JAVA_CLASS}.class").is_file():
        return folder

    # Compile into a new folder and rename it, so a concurrent run never finds half a build.
    staging = Path(tempfile.mkdtemp(prefix="xltv-javamail-build-"))
    completed = subprocess.run(
        [javac, "--release", "11", "-d", str(staging), "-cp", _class_path(), str(JAVA_SOURCE)],
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0:
        shutil.rmtree(staging)
        raise JavaMailUnavailableError(
            f"javac failed to compile {JAVA_SOURCE} (exit code {completed.returncode}): "
            f"{completed.stderr.decode(errors='replace').strip()}"
        )

    try:
        staging.rename(folder)
    except OSError:
        # Another run renamed its build there first. Its build is identical when complete.
        if not (folder / f"{JAVA_CLASS}.class").is_file():
            return staging
        shutil.rmtree(staging)
    return folder
