# datasets-server: one entry point for the whole system. Every target depends on `install`.
SHELL := bash
.DEFAULT_GOAL := help
UV ?= uv
RUN := $(UV) run --frozen

include tools/Common.mk

.PHONY: help install lint format typecheck test unit e2e dev demo

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: .venv/.installed ## install every package of the workspace (uv sync, frozen lockfile)
.venv/.installed: uv.lock pyproject.toml */*/pyproject.toml
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet uv
	$(UV) sync --frozen --all-packages
	@touch $@

lint: install ## ruff lint + format check + mypy (strict on libs and services)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/libcommon/src services/api/src services/admin/src services/worker/src jobs/cache_maintenance/src tools/localhub/src

format: install ## apply ruff format and autofixes
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

unit: install ## unit tests of every package
	$(RUN) pytest --ignore=e2e $(PYTEST_ARGS)

e2e: install ## end-to-end tests (start the real processes)
	$(RUN) pytest e2e $(PYTEST_ARGS)

test: lint unit e2e ## everything CI runs: lint, type check, unit tests, e2e tests
