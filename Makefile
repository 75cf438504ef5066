# The two commands a newcomer runs: `make demo` and `make test`. Both create the virtual
# environment and install everything the project needs from pyproject.toml first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test serve install catalogue integration clean up down lint format

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kinerja demo

LINTED := services kinerja flows tests bench examples

lint: $(STAMP)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)

format: $(STAMP)
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

test: $(STAMP)
	$(BIN)/python -m pytest -q

integration: $(STAMP)
	REQUIRE_SERVICES=1 $(BIN)/python -m pytest -q tests/integration

serve: $(STAMP)
	$(BIN)/kinerja serve

# The production topology as local processes on this machine (PostgreSQL, RabbitMQ, gunicorn, nginx,
# a Prefect server and worker, a development identity provider); prints where to sign in.
up: $(STAMP)
	$(BIN)/kinerja up

down:
	@if [ -x $(BIN)/kinerja ]; then $(BIN)/kinerja down; else echo "nothing to stop"; fi

catalogue: $(STAMP)
	$(BIN)/kinerja events catalogue --output docs/events.md
	$(BIN)/kinerja events asyncapi --output docs/asyncapi.json

clean:
	rm -rf var/ .pytest_cache
