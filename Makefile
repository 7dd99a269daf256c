# Dabba: `make run` (everything plus demo traffic) and `make test` (the whole suite).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
# A second local stack on the same machine: DABBA_PORT_OFFSET=100 shifts every port (deploy/local/ports.py).
export DABBA_PORT_OFFSET ?= 0
export KAFKA_BOOTSTRAP_SERVERS ?= localhost:$(shell echo $$((9092 + $(DABBA_PORT_OFFSET))))
export DATABASE_URL ?= postgresql://postgres@127.0.0.1:$(shell echo $$((5432 + $(DABBA_PORT_OFFSET))))/postgres

.PHONY: help install fonts browser up down logs run test lint bench chaos status

help:
	@echo "make run    start Kafka, PostgreSQL, every service and the sandbox, stream demo orders"
	@echo "make up     the stack without demo traffic;  make down  stop it;  make logs  follow logs"
	@echo "make test   lint, type-check, contract check, and the whole test suite"
	@echo "make bench  end-to-end throughput and latency with exactly-once checks, then a hot-SKU flash sale"
	@echo "make chaos  a soak (under 10 min) killing every service, the broker and PostgreSQL; checks exactly-once"

install: .venv/.dabba-installed fonts

.venv/.dabba-installed: pyproject.toml uv.lock tests/tools/package-lock.json services/console/assets/package-lock.json
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		{ echo "install: fetching uv from PyPI"; python3 -m pip install --quiet uv; }
	@echo "install: Python dependencies from uv.lock"
	@$(UV) sync --frozen --quiet
	@command -v npm >/dev/null 2>&1 || { echo "install: npm from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	@echo "install: test data from npm (tests/tools/package-lock.json: the Compose specification's schema)"
	@npm ci --prefix tests/tools --no-audit --no-fund --silent
	@echo "install: the console's fonts from npm (services/console/assets/package-lock.json: Noto Sans, India's scripts)"
	@npm ci --prefix services/console/assets --no-audit --no-fund --silent
	@touch $@

up: install
	@bash deploy/local/up.sh
	@$(PY) -m chassis.topics
	@$(PY) -m deploy.local.stack start

down:
	@if [ -x $(PY) ]; then $(PY) -m deploy.local.stack stop; fi
	@bash deploy/local/down.sh

status: install
	@$(PY) -m deploy.local.stack status

logs:
	@bash deploy/local/logs.sh

run: install
	@$(PY) -m deploy.local.demo

lint: install
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy
	@$(PY) -m contracts.schemas_tool check
	@prev=$$(mktemp -d); \
	if git rev-parse -q --verify HEAD~1 >/dev/null 2>&1 && git archive HEAD~1 contracts/schemas 2>/dev/null | tar -x -C $$prev; then \
		echo "contracts: checking against the previous commit's schemas"; \
		$(PY) -m contracts.schemas_tool check --dir $$prev/contracts/schemas --compat-only || { rm -rf $$prev; exit 1; }; \
	fi; rm -rf $$prev

# Labels, manifests, invoices and credit notes set India's scripts in Debian's Noto fonts (ADR 390).
fonts:
	@test -f /usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "install: the documents' fonts (fonts-noto-core) from Debian's packages"; \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
				--no-install-recommends fonts-noto-core >/dev/null || \
				{ echo "install: fonts-noto-core could not be installed with apt-get; documents need it"; exit 1; }; \
		else echo "install: fonts-noto-core is missing and needs root and apt-get; labels and invoices would print India's scripts as boxes"; fi; }

# The console's browser tests drive Debian's chromium (Playwright's own download cannot be reached).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "install: chromium for the console's browser tests (apt-get)"; \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
				--no-install-recommends chromium >/dev/null || \
				{ echo "install: chromium could not be installed with apt-get; the console's browser tests need it"; exit 1; }; \
		else echo "install: chromium is missing and needs root and apt-get to install; the console's browser tests need it"; exit 1; fi; }

test: lint browser
	@bash deploy/local/up.sh
	@$(PY) -m chassis.topics
	@.venv/bin/pytest

bench: install
	@DABBA_PG_STATEMENTS=1 bash deploy/local/up.sh
	@$(PY) -m chassis.topics
	@$(PY) -m bench.run
	@$(PY) -m bench.run --orders 1200 --rate 40
	@$(PY) -m bench.run --hot-sku --orders 2000 --stock 500

# Not part of `make test` (minutes long). Kills only this checkout's processes on this offset.
chaos: install
	@bash deploy/local/up.sh
	@$(PY) -m chassis.topics
	@$(PY) -m bench.chaos
