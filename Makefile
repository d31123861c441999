# datasets-server: one entry point for the whole system. Every target depends on `install`.
SHELL := bash
.DEFAULT_GOAL := help
UV ?= uv
RUN := $(UV) run --frozen

include tools/Common.mk
include tools/Dev.mk

.PHONY: help install lint format typecheck test unit e2e dev demo

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: .venv/.installed ## install every package of the workspace (uv sync, frozen lockfile)
.venv/.installed: uv.lock pyproject.toml */*/pyproject.toml
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet uv
	$(UV) sync --frozen --all-packages
	@touch $@

lint: install ## ruff lint + format check + mypy (strict on libs and services)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/libcommon/src services/api/src services/admin/src services/worker/src jobs/cache_maintenance/src tools/localhub/src tools/demo_seed.py

format: install ## apply ruff format and autofixes
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

unit: install ## unit tests of every package
	$(RUN) pytest --ignore=e2e $(PYTEST_ARGS)

e2e: install ## end-to-end tests (start the real processes)
	$(RUN) pytest e2e $(PYTEST_ARGS)

test: lint unit e2e ## everything CI runs: lint, type check, unit tests, e2e tests

dev: install ## api, admin and one worker per step as separate processes on the embedded SQLite store (Ctrl-C stops all)
	@mkdir -p "$(DEV_DATA_DIR)"
	@echo "datasets-server: API http://$(API_HOSTNAME):$(API_PORT)  admin http://$(ADMIN_HOSTNAME):$(ADMIN_PORT)  Hub $(COMMON_HF_ENDPOINT)  store $(CACHE_MONGO_URL)"
	$(RUN) honcho --app-root . -f tools/Procfile.dev start

demo: install ## `make dev` plus the local hub serving generated sample datasets; prints the URLs to try
	@mkdir -p "$(DEV_DATA_DIR)"
	$(RUN) python -m localhub generate --root "$(DEMO_HUB_ROOT)"
	COMMON_HF_ENDPOINT=http://127.0.0.1:$(DEMO_HUB_PORT) COMMON_HF_TOKEN=$(DEMO_HF_TOKEN) \
		$(RUN) honcho --app-root . -f tools/Procfile.demo start
