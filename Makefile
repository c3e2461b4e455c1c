# nba-props: the public interface. `make help` lists every target.
# Two commands matter on a fresh machine: `make daily` and `make test`. Both set themselves up.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAMP_BQ := $(VENV)/.installed-bigquery

# dbt finds profiles.yml at the repository root; one target path per target keeps partial parsing warm.
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
export DLT_DATA_DIR := $(CURDIR)/.dlt_pipelines
# The dbt target follows NBA_PROPS_TARGET (as profiles.yml and extract do), dev by default.
TARGET ?= $(or $(NBA_PROPS_TARGET),dev)
DBT := $(BIN)/dbt
DBT_FLAGS = --target $(TARGET) --target-path target/$(TARGET)

WAREHOUSE ?= $(or $(NBA_PROPS_DUCKDB_PATH),warehouse/nba_props.duckdb)
DOCS_PORT ?= 8580
PORT ?= 8765
NOW ?=
# The demo day (the sandbox's default "now" is noon Eastern on it). With any real API configured,
# today in New York: extract itself says which (`real` or `sandbox`). Both are recursive (`=`,
# `?=`), so only a recipe that uses DATE asks, after the venv it needs is installed.
DEMO_DATE := 2026-01-15
UPSTREAM = $(shell $(BIN)/python -m extract upstream)
DATE ?= $(if $(filter real,$(UPSTREAM)),$(shell TZ=America/New_York date +%F),$(DEMO_DATE))

.PHONY: help
help: ## List the targets with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- setup -----------------------------------------------------------------------------------------

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned dependencies from pyproject.toml into $(VENV)"
	@$(BIN)/python -m pip install --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]' >> $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@mkdir -p warehouse
	@touch $@

$(STAMP_BQ): $(STAMP)
	@$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev,bigquery]' >> $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@touch $@

.PHONY: install
install: $(STAMP) ## Create .venv and install the pinned dependencies (a second call installs nothing)

.PHONY: install-bigquery
install-bigquery: $(STAMP_BQ) ## Add the optional BigQuery extra (dbt-bigquery, dlt[bigquery])

# --- quality ---------------------------------------------------------------------------------------

.PHONY: lint
lint: $(STAMP) ## ruff (lint + format check), sqlfluff over the dbt SQL, yamllint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project tests/data_tests analyses
	$(BIN)/yamllint --strict .

.PHONY: format
format: $(STAMP) ## Rewrite Python and SQL in the house style
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project tests/data_tests analyses

# pytest workers: one per core here (tests/conftest.py keeps each file, and the dbt warehouse, on one).
TEST_WORKERS ?= 2

.PHONY: test
test: $(STAMP_BQ) lint ## Lint, then pytest with coverage (a dbt build, and the offline BigQuery compile check)
	@mkdir -p warehouse
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --cov --cov-report=term

.PHONY: test-fast
test-fast: $(STAMP) ## The edit loop: ruff, then pytest without the end-to-end runs (marker `slow`)
	$(BIN)/ruff check .
	@mkdir -p warehouse
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -m "not slow" -q

# --- the warehouse ---------------------------------------------------------------------------------

.PHONY: build
build: $(STAMP) ## dbt build on TARGET (default dev)
	@mkdir -p warehouse
	$(DBT) build $(DBT_FLAGS)

.PHONY: docs
docs: $(STAMP) ## Build the dbt docs site (static, offline) and serve it on 127.0.0.1:DOCS_PORT
	@mkdir -p warehouse
	$(DBT) docs generate --static $(DBT_FLAGS)
	@echo "serving http://127.0.0.1:$(DOCS_PORT)/static_index.html (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(DOCS_PORT) --bind 127.0.0.1 --directory target/$(TARGET)

.PHONY: sql
sql: $(STAMP) ## Open the DuckDB shell on the dev warehouse, read-only (close it before the daily job runs)
	@test -f $(WAREHOUSE) || { echo "no warehouse at $(WAREHOUSE) yet: run 'make daily' first" >&2; exit 1; }
	$(BIN)/duckdb -readonly $(WAREHOUSE)

# --- the outside world -----------------------------------------------------------------------------

.PHONY: sandbox
sandbox: $(STAMP) ## Serve the simulated league on 127.0.0.1:PORT (NOW=2026-01-15T17:00:00Z to move time)
	$(BIN)/python -m sandbox --port $(PORT) $(if $(NOW),--now $(NOW),)

.PHONY: extract
extract: $(STAMP) ## Load raw data for DATE (box scores of DATE-1, slate and lines of DATE) into the warehouse
	@mkdir -p warehouse
	$(BIN)/python -m extract --date $(DATE)

START ?=
END ?=

.PHONY: backfill
backfill: $(STAMP) ## Load START..END into the raw layer in chunks, resumably (default: season start to yesterday)
	@mkdir -p warehouse
	$(BIN)/python -m extract backfill $(if $(START),--start $(START),) $(if $(END),--end $(END),)

# DATE goes to the daily job only when given (`make daily DATE=...`): otherwise the pipeline picks
# the same default itself (today in New York, or the demo day on the sandbox).
DAILY_DATE = $(if $(filter-out default file undefined,$(origin DATE)),--date $(DATE),)

.PHONY: daily
daily: $(STAMP) ## The daily job for DATE (default: today in NY, or the demo day): extract, dbt, score, publish
	@mkdir -p warehouse $(dir $(WAREHOUSE))
	@$(MAKE) _daily_steps

# One process drives every step (pipeline/): its lock beside the warehouse keeps one job per
# warehouse, and it refuses, naming the holder, while another one runs.
.PHONY: _daily_steps
_daily_steps:
	$(BIN)/python -m pipeline daily $(DAILY_DATE) $(if $(FORCE),--force,)

.PHONY: status
status: $(STAMP) ## Did the daily job of DATE (default: the latest run) complete, and what failed?
	@$(BIN)/python -m pipeline status $(if $(filter-out default file undefined,$(origin DATE)),$(DATE),)

.PHONY: backtest
backtest: $(STAMP) ## Walk-forward backtest of the season in the warehouse (runs `make daily` first if it is empty)
	@test -f $(WAREHOUSE) || $(MAKE) daily
	$(BIN)/python -m models_ml backtest --warehouse $(WAREHOUSE)

.PHONY: bench
bench: $(STAMP) ## Run every benchmark (about 8 min; 15 from an empty cache), print the figures, write bench/results/latest.json
	$(BIN)/python -m bench run

.PHONY: bench-quick
bench-quick: $(STAMP) ## One run of each benchmark (about 2.5 min) into bench/results/partial.json
	$(BIN)/python -m bench run --quick

# How far a figure may move the wrong way before bench-compare flags it (0.20: 20% slower or bigger).
BENCH_TOLERANCE ?= 0.20

.PHONY: bench-compare
bench-compare: $(STAMP) ## Each figure of the last bench run as a ratio to the committed one (BENCH_TOLERANCE=0.20)
	$(BIN)/python -m bench compare --tolerance $(BENCH_TOLERANCE)

# --- housekeeping ----------------------------------------------------------------------------------

.PHONY: clean
clean: ## Remove build output, caches and the local warehouse (keeps .venv)
	rm -rf target logs .pytest_cache .ruff_cache .coverage htmlcov .dlt_pipelines .cache landing
	rm -rf warehouse
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

.PHONY: distclean
distclean: clean ## clean, and remove the virtual environment too
	rm -rf $(VENV)
