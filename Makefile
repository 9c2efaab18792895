# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The suite runs on the embedded default whatever the caller's shell exports.
PYTEST := env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(BIN)/python -m pytest
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-fast test-sdk services-test services-up services-down chromium messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/bidcart run

# The whole suite: unit + API + e2e (Chromium) + the payment SDK compatibility suites.
test: $(STAMP) chromium
	$(BIN)/ruff check src tests bench sdk_tests
	$(BIN)/ruff format --check src tests bench sdk_tests
	$(PYTEST) -n 2 --dist loadfile -m "not services"
	PGSIM_PYTHON=$(abspath $(BIN))/python scripts/test-sdk

test-fast: $(STAMP)
	$(PYTEST) -n 2 --dist loadfile -m "not services and not e2e"

# The official payment SDKs against the simulator, in their own virtualenv (.venv-sdk).
test-sdk: $(STAMP)
	PGSIM_PYTHON=$(abspath $(BIN))/python scripts/test-sdk

# Needs PostgreSQL and Redis (see .ci/run, which starts them if they are down).
services-test: $(STAMP)
	$(BIN)/python -m pytest tests/services -m services -p no:randomly -v

# The production topology from local processes: 2 web servers, worker, beat (PostgreSQL and Redis running).
services-up: $(STAMP)
	scripts/services-up

services-down:
	scripts/services-down

# Debian's Chromium drives the browser tests (Playwright never downloads its own browser here).
chromium:
	@scripts/ensure-chromium

# Korean catalogues: apps with their own locale/ keep their strings there, the rest go to src/bidcart/locale.
messages: $(STAMP)
	cd src/bidcart && export DEBUG=1 BIDCART_DATA_DIR=$(CURDIR)/var && ../../$(BIN)/bidcart manage makemessages -l ko --ignore 'pgsim/*' \
	  && ../../$(BIN)/bidcart manage compilemessages -l ko

clean:
	rm -rf $(VENV) .venv-sdk .pytest_cache
