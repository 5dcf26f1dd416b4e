"""Validate the GitLab templates against the gitlab-ci schema that check-jsonschema bundles.

The classic include is one YAML document and is validated as it is. The component file is
two documents, the `spec:` header and the job, and each is validated on its own. In the job,
an interpolation such as `allow_failure: $[[ inputs.allow-failure ]]` is still a string, which
the schema rejects where it expects a boolean or an array, although GitLab replaces it with a
value of the input's declared type. So every value that is one whole `$[[ inputs.NAME ]]`
block is replaced by the input's default, or an empty value of its type, before validation.

Run with the Python of the project's virtual environment: `python .ci/lint_gitlab_templates.py`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "templates" / "xltestview.yml"
CLASSIC_INCLUDE = ROOT / "gitlab" / "xltestview.gitlab-ci.yml"
WHOLE_INPUT = re.compile(r"^\$\[\[\s*inputs\.([\w-]+)\s*\]\]$")
EMPTY_OF_TYPE: dict[str, Any] = {"string": "", "boolean": False, "number": 0, "array": []}


def substitute_inputs(node: Any, inputs: dict[str, Any]) -> Any:
    """Replace each value that is one whole input interpolation by a value of its type."""
    if isinstance(node, dict):
        return {key: substitute_inputs(value, inputs) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute_inputs(item, inputs) for item in node]
    if not isinstance(node, str):
        return node

    match = WHOLE_INPUT.match(node)
    if match is None or match.group(1) not in inputs:
        return node
    spec = inputs[match.group(1)]
    input_type = spec.get("type", "string")
    if input_type == "string":
        return node
    return spec.get("default", EMPTY_OF_TYPE[input_type])


def validate(path: Path, label: str) -> bool:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.gitlab-ci",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    status = "ok" if result.returncode == 0 else "FAILED"
    print(f"{status}: {label}")
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
    return result.returncode == 0


def main() -> int:
    header, job = list(yaml.safe_load_all(COMPONENT.read_text(encoding="utf-8")))
    job = substitute_inputs(job, header["spec"]["inputs"])

    results: list[bool] = []
    with tempfile.TemporaryDirectory() as folder:
        header_path = Path(folder) / "header.yml"
        header_path.write_text(yaml.safe_dump(header), encoding="utf-8")
        job_path = Path(folder) / "job.yml"
        job_path.write_text(yaml.safe_dump(job), encoding="utf-8")

        results.append(validate(header_path, f"{COMPONENT.relative_to(ROOT)}, spec header"))
        results.append(validate(job_path, f"{COMPONENT.relative_to(ROOT)}, job"))
        results.append(validate(CLASSIC_INCLUDE, str(CLASSIC_INCLUDE.relative_to(ROOT))))

    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
