# Two commands do all the set-up: `make run` serves, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint goldens clean

$(BIN)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev: requirements.txt requirements-dev.txt requirements-apt.txt $(BIN)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	sh scripts/install-apt.sh requirements-apt.txt
	touch $@

run: $(BIN)/.runtime
	$(BIN)/python -m app

lint: $(BIN)/.dev
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests
	$(BIN)/mypy --strict app

test: lint
	$(BIN)/python -m pytest -q

goldens: $(BIN)/.dev
	$(BIN)/python -m tests.regenerate

clean:
	rm -rf $(VENV)
