# Set-up and checks. `make demo` and `make test` need only python3 (3.10+) on the PATH.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint test-container bench clean

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

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Not part of `make test`: takes about 10 minutes and writes docs/benchmarks.md.
bench: $(BIN)/xltv
	@command -v zip >/dev/null && command -v curl >/dev/null && test -x /usr/bin/time || \
		{ apt-get update && apt-get install -y zip curl time; }
	$(BIN)/python benchmarks/bench.py
