#!/usr/bin/env bash
# Rerun the three sample test projects under examples/sources/ and rewrite their JUnit XML
# reports under examples/results/, the input that `make demo` uploads.
#
# Needs:
#   - python3 with pytest installed (set PYTHON to use another interpreter);
#   - node 20.13 or newer, for `node --test` with the junit reporter;
#   - npm with access to the npm registry: the first run installs the versions of jest and
#     jest-junit that sources/js/package.json pins into sources/js/node_modules (git ignores it,
#     and sources/js/.npmrc turns the lock file off).
#
# Every sample has one failing test on purpose, so each runner exits with 1. This script
# fails when a runner exits with any other code or writes no report.
set -euo pipefail

cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"

# Run a test command that is expected to exit with 0 or 1 and to write REPORT.
run_and_check_report() {
    local report="$1"
    shift

    rm -f "$report"
    mkdir -p "$(dirname "$report")"

    local status=0
    "$@" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "regenerate.sh: '$*' failed with exit code $status" >&2
        exit 1
    fi

    if [ ! -s "$report" ]; then
        echo "regenerate.sh: '$*' wrote no report at $report" >&2
        exit 1
    fi
    echo "regenerate.sh: wrote $report"
}

echo "== pytest: examples/sources/python"
# pytest.ini in the sample folder makes it the rootdir, so the project's own settings in
# pyproject.toml do not apply; no cache folder is left behind.
run_and_check_report examples/results/pytest/TEST-pytest.xml \
    "$python" -m pytest -p no:cacheprovider examples/sources/python \
    --junitxml=examples/results/pytest/TEST-pytest.xml

echo "== jest: examples/sources/js"
# The jest-junit options in package.json name the output file.
(cd examples/sources/js && npm install --no-audit --no-fund --loglevel=error)
run_and_check_report examples/results/jest/junit.xml \
    bash -c 'cd examples/sources/js && npx --no-install jest --ci'

echo "== node --test: examples/sources/node"
run_and_check_report examples/results/node-test/junit.xml \
    node --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=junit --test-reporter-destination=examples/results/node-test/junit.xml \
    examples/sources/node/duration.test.mjs
