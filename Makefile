# Developer entry points; CI runs the same steps through .ci/run.
# PYTHON defaults to python3 because Debian ships no `python` unless python-is-python3 is installed.
PYTHON ?= python3

.PHONY: install test lint cfn-lint check bench

install:
	$(PYTHON) -m pip install -e '.[dev]'

test:
	$(PYTHON) -m pytest

lint:
	ruff check . && ruff format --check . && mypy

cfn-lint:
	cfn-lint infra/*.yaml

check: lint cfn-lint test

bench:
	$(PYTHON) bench/run.py
