# Mole database tooling. `make` lists the targets; the work itself is in invoke tasks (`.venv/bin/invoke --list`).
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INVOKE := $(BIN)/invoke

.PHONY: help
help: ## Show this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-8s %s\n", $$1, $$2}'

$(BIN)/activate: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	touch $(BIN)/activate

.PHONY: setup
setup: $(BIN)/activate postgres ## Create .venv from the pinned requirements; PostgreSQL with PostGIS if missing

.PHONY: postgres
postgres: ## Install Debian's PostgreSQL and PostGIS (major in compose/.env), GDAL and GEOS, if missing (root or sudo)
	scripts/install_postgres.sh

.PHONY: demo
demo: setup ## Local server up, migrate, sample data, backup, verify, then a legacy example into a bundle
	$(INVOKE) demo

.PHONY: browser
browser: ## Install Debian's chromium and chromium-driver for the browser test, if missing (root or sudo)
	scripts/install_browser.sh

.PHONY: test
test: setup browser ## Run the test suite (real local PostgreSQL with PostGIS, and headless Chromium for one test)
	$(BIN)/pytest

.PHONY: check
check: setup ## Lint, and fail if models changed without a migration
	$(BIN)/ruff check .
	$(INVOKE) makemigrations --check

.PHONY: clean
clean: ## Stop the local server and remove .venv and .mole (backups are kept)
	-$(INVOKE) down --backend local
	rm -rf $(VENV) .mole
