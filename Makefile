# cachecost: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install lock report test test-fast lint typecheck format sample-data demo-fetch demo-fetch-group lab publish bench clean

## Show this help
# (the name column is as wide as the longest target's name, read in a first pass)
help:
	@awk 'BEGIN {FS=":"} /^## / {doc=substr($$0, 4); next} /^[a-zA-Z_-]+:/ && doc {n++; name[n]=$$1; text[n]=doc; if (length($$1) > w) w=length($$1); doc=""} END {for (i=1; i<=n; i++) printf "  %-" w "s  %s\n", name[i], text[i]}' $(MAKEFILE_LIST)

# uv syncs .venv to exactly the versions in uv.lock (cachecost editable, with its test
# extras). uv is the one on PATH if there is one, else it is pip-installed into .venv first
# (from PyPI, or offline from a folder of wheels named by PIP_FIND_LINKS), so nothing
# outside .venv is needed. Offline (UV_OFFLINE=1 make install) works once uv's cache holds
# the wheels of uv.lock and uv itself is on PATH or in PIP_FIND_LINKS: README, "Offline".
# --compile-bytecode: the notebooks' kernels then import pandas, plotly and nbconvert from
# .pyc at once, also where PYTHONDONTWRITEBYTECODE is set (it halves `make report`'s CPU).
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
UV ?= $(or $(shell command -v uv 2>/dev/null),$(BIN)/uv)
UV_NOT_FOUND := make: cannot install uv into $(VENV) (offline?): put uv on PATH, or a uv wheel \
	in a folder and set PIP_FIND_LINKS=that/folder; see README.md, section Offline

$(BIN)/uv:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv \
		|| { echo "$(UV_NOT_FOUND)" >&2; exit 1; }

# JupyterLab is the `lab` extra: `make lab` adds it (LAB_STAMP), and later syncs keep it.
LAB_STAMP := $(VENV)/.lab-stamp
SYNC = $(UV) sync --frozen --extra test $(if $(wildcard $(LAB_STAMP)),--extra lab) \
	--compile-bytecode --quiet

$(STAMP): pyproject.toml uv.lock | $(UV)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(SYNC)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

$(BIN)/jupyter-lab: | $(STAMP)
	$(UV) sync --frozen --extra test --extra lab --compile-bytecode --quiet
	@touch $(LAB_STAMP)

## Create .venv (when missing) and sync it from uv.lock: cachecost and its test tools
install: $(STAMP)

## Update uv.lock after changing the dependencies in pyproject.toml
lock: | $(UV)
	$(UV) lock

## Build the default report site from the bundled sample data into reports/
report: $(STAMP)
	$(BIN)/cachecost report
	@echo "Open reports/index.html"

## Run the linter, the import contracts, the type checker and the whole test suite
test: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/lint-imports
	$(BIN)/mypy src/cachecost
	$(BIN)/python -m pytest

# Unit and model tests: no notebook execution, no browser, no registry, no wheel build.
FAST_TESTS := tests/model tests/test_cli.py tests/test_cli_startup.py tests/test_dataset.py \
	tests/test_rules.py tests/test_sample.py tests/test_project.py tests/test_hygiene.py \
	tests/test_bad_inputs.py tests/test_inputs_bounded.py

## Run the unit and model tests only (about a minute on 2 cores; `make test` runs everything)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q $(FAST_TESTS)

## Check the code with ruff and the import contracts (pyproject.toml [tool.importlinter])
lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/lint-imports

## Check the types with mypy (settings in pyproject.toml)
typecheck: $(STAMP)
	$(BIN)/mypy src/cachecost

## Format the code with ruff
format: $(STAMP)
	$(BIN)/ruff format src tests scripts

## Regenerate the synthetic sample dataset in data/sample/ (deterministic)
sample-data: $(STAMP)
	$(BIN)/python scripts/make_sample_data.py

## Fetch the stand-in's sample-shaped data into data/raw/demo/ (no token needed)
demo-fetch: $(STAMP)
	$(BIN)/python -m cachecost.standin.demo

## Build the site into public/ for GitLab Pages or any static host (BASE_URL=https://... links the summaries)
publish: $(STAMP)
	$(BIN)/cachecost report --out public $(if $(BASE_URL),--base-url $(BASE_URL))
	@echo "Publish public/ (GitLab Pages: ci/gitlab-pages.gitlab-ci.yml); mail public/<scenario>/summary.txt"

## Fetch the stand-in's synthetic group (4 builders, subgroups, a 403) into data/raw/demo-group/
demo-fetch-group: $(STAMP)
	$(BIN)/python -m cachecost.standin.group_demo

## Run the benchmarks (fetch, model, report, registry scan); prints the figures
bench: $(STAMP)
	$(BIN)/python scripts/bench_model.py
	$(BIN)/python scripts/bench_report.py

# Jupyter refuses to start as root without --allow-root; containers and CI jobs run as root.
LAB_ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ARGS ?=

## Open JupyterLab (installs the `lab` extra the first time; as root too; LAB_ARGS="--no-browser" etc.)
lab: $(STAMP) $(BIN)/jupyter-lab
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ALLOW_ROOT) $(LAB_ARGS)

## Remove generated reports and caches (keeps .venv and data/)
clean:
	rm -rf reports/*/ reports/*.html reports/*.js .pytest_cache .ruff_cache
