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

# Each script rewrites its own section of docs/benchmarks.md (bench/README.md); about 6 minutes on 2 cores in all.
bench:
	$(PYTHON) bench/run.py
	$(PYTHON) bench/moderation.py
	$(PYTHON) bench/outbox.py
	$(PYTHON) bench/dev_start.py

# Renders .chalice/config.json's stage settings and policy-$(STAGE).json from the deployed infra/ stacks (docs/deploy.md).
# Stacks are <prefix>-$(STAGE)-{tables,queues,egress}, prefix `qungui` unless STACK_PREFIX is set; AWS_REGION and
# AWS_PROFILE select the account and region as for any AWS command.
.PHONY: config
config:
	@test -n "$(STAGE)" || { echo "usage: make config STAGE=prod [STACK_PREFIX=qungui]" >&2; exit 2; }
	$(PYTHON) -m qungui_cli.render_config --stage $(STAGE) $(if $(STACK_PREFIX),--stack-prefix $(STACK_PREFIX))
