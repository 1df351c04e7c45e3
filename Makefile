# Two commands on a fresh machine: `make run` and `make test`. Everything else is what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test setup system-deps node-deps services lint bench mutation clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Debian's chromium for the browser tests (never `playwright install`), iproute2 for the kernel
# tests, iputils-ping for the ping verb (agent/actions.py), nodejs + npm for ESLint. Only what is
# missing is installed: a machine whose node comes from elsewhere (nodesource's nodejs bundles
# npm and conflicts with Debian's npm) keeps its own.
system-deps:
	@missing=""; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v ip >/dev/null || missing="$$missing iproute2"; \
	  command -v ping >/dev/null || missing="$$missing iputils-ping"; \
	  command -v node >/dev/null || missing="$$missing nodejs"; \
	  command -v npm >/dev/null || missing="$$missing npm"; \
	  [ -z "$$missing" ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; }

# ESLint and its configs, pinned in package.json / package-lock.json, run with the machine's node.
node-deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || $(MAKE) --no-print-directory system-deps
	@npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

# The distributed-mode tests use the machine's Redis and PostgreSQL; start Redis if it is not there.
services:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no

lint: setup node-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict agent
	$(VENV)/bin/mypy webui
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	node node_modules/eslint/bin/eslint.js static/nsmap

run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py nsmap_bootstrap
	PORT=$(PORT) $(PY) manage.py nsmap_serve

test: setup system-deps services lint
	$(PY) -m pytest

bench: setup
	$(PY) -m bench.discovery --namespaces 1000

# Mutation testing of the pure modules with their pure tests ([tool.mutmut] in pyproject.toml);
# prints the score per module (killed / all mutants) and `mutmut results` lists the survivors.
mutation: setup
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children 2 >/dev/null
	$(PY) -c 'import json, glob; [print(f"{p[8:-5]}: {k}/{len(e)} mutants killed ({k / len(e):.1%})") for p in sorted(glob.glob("mutants/**/*.meta", recursive=True)) for e in [json.load(open(p))["exit_code_by_key"]] for k in [sum(v not in (0, 33, None) for v in e.values())]]'

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-wal db.sqlite3-shm var artifacts mutants
