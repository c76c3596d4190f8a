# The two commands of the README: `make run` and `make test`.
# Each one installs whatever is missing first, so both work on a fresh clone.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run test test-embedded test-services chromium bench messages clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	HF_HUB_OFFLINE=1 $(PY) manage.py prepare_models
	touch $(INSTALLED)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo --address $(HOST):$(PORT)
	@echo "Starting the task worker and the server on http://$(HOST):$(PORT)/ (Ctrl-C stops both)"
	@$(PY) manage.py db_worker --no-reload --queue-name '*' & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install chromium lint test-embedded test-services

# Lint and format (ruff), types (mypy) and the import contract (import-linter), all set in pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Pass 1: the embedded defaults (SQLite, local-memory cache, in-memory channel layer).
test-embedded: install
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest

# Pass 2: PostgreSQL and Redis; the run stops with an error if either is unreachable.
test-services: install
	DATABASE_URL=$(POSTGRES_URL) REDIS_URL=$(REDIS_TEST_URL) $(PY) -m pytest

# Every benchmark (each saves its result file in bench/results/), then docs/benchmarks.md from those files.
bench: install
	$(PY) -m bench.run_all; status=$$?; $(PY) -m bench.report && exit $$status

# After changing a visitor-facing text: refresh locale/*/django.po, translate, compile.
# Needs GNU gettext; installs do not, because the .mo files are committed.
messages: install
	$(PY) manage.py makemessages -l fr -l de -l es -l nl --no-location \
		--ignore 'bench/*' --ignore 'tests/*' --ignore 'var/*' --ignore 'staticfiles/*' --ignore 'test-artifacts/*'
	$(PY) manage.py compilemessages

clean:
	rm -rf $(VENV) var staticfiles
