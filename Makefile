# Route Finder. Quick start: `make run`, then `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-$(shell cat requirements.lock | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help setup run serve worker bench audit test lint format lock clean

help:
	@echo "make run    set up (environment, database, routes) and serve at http://$(HOST):$(PORT)"
	@echo "make setup  the same without serving; safe to repeat"
	@echo "make serve  production server (gunicorn, DEBUG off); configure it with the environment"
	@echo "make worker PDF workers for make serve (PDF_WORKERS processes, default 1)"
	@echo "make bench  load benchmark on PostgreSQL (results in bench-results/)"
	@echo "make audit  known vulnerabilities in the locked dependencies (pip-audit; needs a network)"
	@echo "make test   the whole test suite (SQLite; set DATABASE_URL for PostgreSQL)"
	@echo "make lint   ruff and mypy"
	@echo "make lock   recompute requirements.lock from pyproject.toml"
	@echo "make bench-pdf  time the 13-route results PDF against WeasyPrint's floor"
	@echo "make bench-step  time one answer step in process (13 and 200 routes); ARGS=--profile or ARGS=--callgrind"
	@echo "make bench-drafts  time drafting, the impact report and publishing on the largest route"

$(INSTALLED): requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12 on PATH)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(INSTALLED)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_routes

# PDF workers, each started afresh whenever it exits (it does after PDF_WORKER_MOST_TASKS
# PDFs or past PDF_WORKER_MOST_MB), at a lower CPU priority than the web processes.
PDF_WORKER_LOOP = while :; do nice -n 10 $(BIN)/python manage.py pdf_worker -v0 || sleep 1; done

run: setup
	@echo
	@echo "Serving Route Finder at http://$(HOST):$(PORT)/ (admin at /admin/), with one PDF worker."
	@echo "To create an adviser login: $(BIN)/python manage.py createsuperuser"
	@echo "  (or create a staff user in the admin and add it to the Adviser group)."
	@echo
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; ( $(PDF_WORKER_LOOP) ) & \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production: DEBUG off, so SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL etc. come from the
# environment (README, Configuration). WEB_CONCURRENCY workers x WEB_THREADS threads. gunicorn
# trusts no forwarding header (eligibility/gunicorn_conf.py): SECURE_PROXY_SSL_HEADER and
# TRUSTED_PROXY_COUNT alone say what a proxy in front may tell Django.
serve: setup
	DEBUG=False $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "PDFs are made by PDF workers, not by these web processes: run 'make worker' beside"
	@echo "this server, on this machine or any other with the same DATABASE_URL (PDF_WORKERS=2"
	@echo "make worker for two). Without one, applicants' PDFs wait in the queue."
	@echo
	DEBUG=False $(BIN)/gunicorn eligibility.wsgi --config python:eligibility.gunicorn_conf \
		--bind $(HOST):$(PORT) \
		--workers $${WEB_CONCURRENCY:-$$(( $$(nproc) * 2 + 1 ))} --threads $${WEB_THREADS:-1} \
		--access-logfile -

# PDF workers for `make serve`: PDF_WORKERS processes (default 1) taking PDFs from the queue
# in the database, on this machine or any other; Ctrl-C stops them all.
worker: $(INSTALLED)
	@echo "Starting $${PDF_WORKERS:-1} PDF worker(s); Ctrl-C stops them."
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; for _ in $$(seq $${PDF_WORKERS:-1}); do \
		( $(PDF_WORKER_LOOP) ) & done; wait

# Load benchmark on PostgreSQL (a benchmark, not a test); see bench/README.md.
bench: $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements-bench.lock
	$(BIN)/python bench/run.py

# Known vulnerabilities in requirements.lock, from PyPI's advisory data (pip-audit; needs the
# network). Fails when one is found, and when that data cannot be read for every package
# (--strict): an audit that checked nothing must not pass. The probe asks PyPI the question
# pip-audit asks, about pip-audit itself, to say so in one line.
AUDIT_PROBE = import importlib.metadata as m, requests; \
	requests.get("https://pypi.org/pypi/pip-audit/%s/json" % m.version("pip-audit"), \
	timeout=15).raise_for_status()

AUDIT_OFFLINE = make audit: PyPI's vulnerability data (https://pypi.org/pypi/NAME/VERSION/json) \
	cannot be read from here; nothing was audited.

audit: $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements-audit.lock
	@$(BIN)/python -c '$(AUDIT_PROBE)' 2>/dev/null || { echo "$(AUDIT_OFFLINE)" >&2; exit 1; }
	$(BIN)/pip-audit --requirement requirements.lock --require-hashes --disable-pip --strict \
		--progress-spinner off

# On every CPU (pytest-xdist; each worker has its own test database). TEST_WORKERS=0 for one.
test: $(INSTALLED)
	$(BIN)/python -m pytest -n $${TEST_WORKERS:-auto}

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy eligibility

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock:
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes \
		--python-version 3.12 -o requirements.lock
	$(PYTHON) -m uv pip compile pyproject.toml --extra bench --generate-hashes \
		--python-version 3.12 -c requirements.lock -o requirements-bench.lock
	$(PYTHON) -m uv pip compile pyproject.toml --extra audit --generate-hashes \
		--python-version 3.12 -c requirements.lock -o requirements-audit.lock

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache

# Benchmark, not a test: the results PDF for a profile touching every route vs the smallest
# WeasyPrint document (results in bench-results/).
.PHONY: bench-pdf
bench-pdf: $(INSTALLED)
	$(BIN)/python bench/pdf_bench.py

# Benchmark, not a test: opening, assessing the impact of and publishing a draft of the
# largest catalogue route, against loading the published rules.
.PHONY: bench-drafts
bench-drafts: $(INSTALLED)
	$(BIN)/python bench/drafts_bench.py

# Benchmark, not a test: one answer step in process, with 13 and with 200 routes, against a
# one-line template; ARGS=--profile (pyinstrument) or ARGS=--callgrind (instructions per
# step). Results in bench-results/.
.PHONY: bench-step
bench-step: $(INSTALLED)
	$(BIN)/python bench/step_bench.py $(ARGS)
