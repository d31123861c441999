# Shared fragment of the per-service Makefiles (services/api, services/admin, services/worker).
# A service Makefile sets SERVICE (the Python module) and WATCH_DIRS, then includes this file.
# `make run` reads the configuration from the environment only (the seeds' defaults apply), like production.
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
UV ?= uv
RUN := $(UV) run --frozen --project $(ROOT)

.PHONY: install run watch test lint

install: ## install the workspace (root `make install`)
	@$(MAKE) --no-print-directory -C $(ROOT) install

run: install ## run the service with the configuration of the environment
	$(RUN) python -m $(SERVICE)

watch: install ## run the service, restarting it when its code or libcommon's changes
	$(RUN) watchfiles --filter python "python -m $(SERVICE)" $(WATCH_DIRS) $(ROOT)/libs/libcommon/src

test: install ## the service's tests
	$(RUN) pytest tests

lint: install ## ruff and strict mypy on the service
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy src
