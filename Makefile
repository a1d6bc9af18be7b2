# The two commands: `make run` (app with demo content on http://127.0.0.1:5000)
# and `make test` (the whole suite). Both set themselves up on a fresh machine.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export FLASK_APP := wsgi.py
# A server to create throw-away test databases on, for `make test-postgres`.
POSTGRES_TEST_URL ?= postgresql://127.0.0.1:5432/test

.PHONY: run test test-postgres test-postgres-whoosh lint browser bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The job worker runs beside the server and delivers queued mail (to instance/outbox/
# without an SMTP host); Ctrl-C stops both, the worker after the job in hand. The
# server is not the recipe's last command: a shell may exec that one, and drop the trap.
run: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty
	$(BIN)/flask jobs worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000; exit $$?

# Real-browser tests drive Debian's Chromium (Playwright never downloads one here).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.dev browser lint
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.dev browser
	NORMHUB_TEST_DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS)

# The suite on PostgreSQL with the Whoosh search backend (PostgreSQL's own is the default there).
test-postgres-whoosh: $(VENV)/.dev browser
	NORMHUB_TEST_DATABASE_URL=$(POSTGRES_TEST_URL) NORMHUB_TEST_SEARCH_BACKEND=whoosh \
		$(BIN)/pytest $(PYTEST_ARGS)

# wrk drives the HTTP benchmark; a Python load generator would eat the servers' CPU.
bench: $(VENV)/.dev
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python benchmarks/exposure.py
	$(BIN)/python benchmarks/search.py
	$(BIN)/python benchmarks/digest.py
	$(BIN)/python benchmarks/pages.py
	$(BIN)/python benchmarks/coverage_tallies.py

clean:
	rm -rf $(VENV) .pytest_cache
