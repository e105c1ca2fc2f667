# A thin shim over `inv` and `nox` for those used to make: one line a target.
# The first target run creates .venv with shipyard and its dev tools.
# Windows (no make): use the same `inv` / `nox` commands from .venv\Scripts.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help dev-up dev-down dev-restart dev-logs dev-shell dev-status test-up test-down \
        docker-build rebuild status test lint docker-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

$(BIN)/inv: pyproject.toml
	$(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q --upgrade pip && $(BIN)/python -m pip install -q -e . --group dev && touch $@

dev-up: $(BIN)/inv ## build what is stale, start the dev stack, wait until healthy
	$(BIN)/inv dev-up
dev-down: $(BIN)/inv ## stop the dev stack (keeps the database volume)
	$(BIN)/inv dev-down
dev-restart: $(BIN)/inv ## restart the dev services
	$(BIN)/inv dev-restart
dev-logs: $(BIN)/inv ## show the dev logs
	$(BIN)/inv dev-logs
dev-shell: $(BIN)/inv ## open a shell in the dev api container
	$(BIN)/inv dev-shell
dev-status: $(BIN)/inv ## show the dev containers
	$(BIN)/inv dev-status
test-up: $(BIN)/inv ## start the test stack
	$(BIN)/inv test-up
test-down: $(BIN)/inv ## remove the test stack
	$(BIN)/inv test-down
docker-build: $(BIN)/inv ## build every image the compose files declare
	$(BIN)/inv docker-build
rebuild: $(BIN)/inv ## rebuild the dev images and recreate the stack
	$(BIN)/inv rebuild
status: $(BIN)/inv ## show every environment's stack
	$(BIN)/inv status
lint: $(BIN)/inv ## ruff, mypy, zizmor, hadolint, compose config
	$(BIN)/nox -s lint
docker-test: $(BIN)/inv ## run the service's tests inside the test image
	$(BIN)/nox -s docker-test
test: $(BIN)/inv ## everything CI runs: lint, docker-test, unit and real-engine tests
	$(BIN)/nox -s lint docker-test && $(BIN)/pytest
