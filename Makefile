# ATU Facilities: `make run` serves the demo on http://127.0.0.1:5000, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint format translations messages clean bench fuzz loadtest

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile --use-fuzzy -d translations

run: $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

# Mozilla's ical.js reads our feeds and axe-core audits our pages in the tests; skipped (with a reason) where npm is missing.
tests/js/node_modules/.package-lock.json: tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd tests/js && npm ci --silent --no-audit --no-fund; \
	else echo "npm not found: the ical.js feed checks and the axe-core audits will be skipped"; fi

test: $(VENV)/.installed-dev translations tests/js/node_modules/.package-lock.json
	$(BIN)/pytest --cov --cov-report=term:skip-covered

# Schemathesis against the OpenAPI document, deeper than the run inside `make test` (12 per operation).
fuzz: $(VENV)/.installed-dev translations
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} $(BIN)/pytest -q tests/test_fuzz_api.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-extract the messages and merge them into the catalogues after changing texts.
messages: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_ngettext:1,2 -o translations/messages.pot .
	$(BIN)/pybabel -q update -N --ignore-obsolete -i translations/messages.pot -d translations

# Conflict-checked create and availability search against 1k/100k/1M bookings of history;
# feeds; then bookings over HTTP through gunicorn (throughput and races for one slot).
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.feeds
	$(BIN)/python -m bench.http

# 200 simulated users (locust) against two app instances on PostgreSQL with 1,000 resources and 1M
# occurrences; writes bench/loadtest-results.md. On demand, not in CI (about five minutes).
loadtest: $(VENV)/.installed-dev translations
	$(BIN)/python -m bench.loadtest

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache
