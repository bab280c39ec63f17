# trustsim: `make run` runs the default scenario, `make test` runs the tests.
# Both create .venv with Python 3.12 when it is missing and install the project into it.

PYTHON ?= $(shell command -v python3.12 2>/dev/null || (command -v pyenv >/dev/null 2>&1 && pyenv which python3.12 2>/dev/null) || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

PORT ?= 8765

.PHONY: run test app report behaviour lint format bench bench-quick clean help

help:
	@echo "make run      run the default scenario (ARGS='key=value ...' for Hydra overrides)"
	@echo "make test     run the test suite"
	@echo "make app      the classroom page on http://localhost:$(PORT) (PORT=... to change)"
	@echo "make report SWEEP=multirun/DATE/TIME   the report of a sweep"
	@echo "make behaviour  simulate and write docs/behaviour.md (ARGS='--quick' for a smoke test)"
	@echo "make lint     ruff check and format check"
	@echo "make bench    run the benchmark suite, write benchmarks/RESULTS.md"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 12), f"Python 3.12+ needed, got {sys.version.split()[0]}; set PYTHON=/path/to/python3.12"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/trustsim $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(ARGS)

app: $(STAMP)
	PORT=$(PORT) $(BIN)/trustsim-app

report: $(STAMP)
	$(BIN)/trustsim-report $(SWEEP) $(ARGS)

behaviour: $(STAMP)
	$(BIN)/trustsim-behaviour $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
