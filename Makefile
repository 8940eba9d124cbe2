# Two commands do all the set-up: `make run` serves, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The Lambda image's Python (Dockerfile: public.ecr.aws/lambda/python:3.13): the suite runs on it too.
# pyenv's own build first: its shim answers "command not found" unless 3.13 is the selected version.
LAMBDA_PYTHON ?= $(firstword $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/3.13*/bin/python3.13) $(shell command -v python3.13))
LAMBDA_VENV := .venv-lambda

.PHONY: run test test-lambda-python lint goldens clean

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

test: lint test-lambda-python
	$(BIN)/python -m pytest -q

$(LAMBDA_VENV)/bin/.dev: requirements.txt requirements-dev.txt $(BIN)/.dev
	@test -n "$(LAMBDA_PYTHON)" || { echo "Python 3.13 (the Lambda image's) not found: set LAMBDA_PYTHON" >&2; exit 1; }
	$(LAMBDA_PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install --quiet --upgrade pip
	$(LAMBDA_VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

test-lambda-python: $(LAMBDA_VENV)/bin/.dev
	$(LAMBDA_VENV)/bin/python -m pytest -q -p no:cacheprovider

goldens: $(BIN)/.dev
	$(BIN)/python -m tests.regenerate

clean:
	rm -rf $(VENV) $(LAMBDA_VENV)
