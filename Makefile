# The two commands a newcomer runs: `make demo` and `make test`. Both create the virtual
# environment and install everything the project needs from pyproject.toml first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test serve install catalogue integration clean up down lint format bench

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

# Every benchmark in turn at moderate sizes (a few minutes on 2 cores), each appending its figures
# to var/bench/results.jsonl (bench/record.py); stops at the first that fails, then prints the
# latest figure per name. Needs the local PostgreSQL and RabbitMQ (not `make up`). bench/README.md.
BENCH_RUN = run() { echo; echo "== $$*"; "$$@" || { rc=$$?; echo "make bench: $$2 exited $$rc" >&2; exit $$rc; }; }

bench: $(STAMP)
	@$(BENCH_RUN); \
	run $(BIN)/python bench/events_e2e.py; \
	run $(BIN)/python bench/relay_throughput.py --events 2000; \
	run $(BIN)/python bench/surveys_bench.py --ingest 2000 --responses 100000 --repeat 3; \
	run $(BIN)/python bench/reviews_calibration.py --employees 2000 --units 30 --runs 3; \
	run $(BIN)/python bench/reviews_open.py --employees 10000 --runs 2; \
	run $(BIN)/python bench/notifications_bench.py --count 5000; \
	run $(BIN)/python bench/notifications_events.py; \
	run $(BIN)/python bench/reminders_bench.py --people 10000; \
	run $(BIN)/python bench/api_plans.py --iterations 200; \
	run $(BIN)/python bench/api_cpu.py; \
	run $(BIN)/python bench/api_load.py; \
	run $(BIN)/python bench/demo_time.py --runs 1; \
	run $(BIN)/python bench/cycle_bench.py --sizes 1000; \
	echo; $(BIN)/python bench/record.py --table

clean:
	rm -rf var/ .pytest_cache
