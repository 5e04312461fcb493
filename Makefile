# make e2e   the end-to-end suites on a fresh local stack (creates the venv when missing)
# make test  everything CI runs: lint, unit, then the integration and e2e suites on one local stack
# make up / make down   leave a local stack running to work against, then stop it

VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv lint unit integration e2e test up down status bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml

unit: venv
	$(PYTHON) -m pytest tests/unit

integration: venv
	$(PYTHON) -m pytest tests/integration

e2e: venv
	$(PYTHON) -m harness.cli e2e

test: lint unit
	$(PYTHON) -m harness.cli test

up: venv
	$(PYTHON) -m harness.cli up

down: venv
	$(PYTHON) -m harness.cli down

status: venv
	$(PYTHON) -m harness.cli status

bench: venv
	$(PYTHON) -m bench.harness_bench
	$(PYTHON) -m bench.feeds_bench
	$(PYTHON) -m bench.orders_bench

clean:
	rm -rf .harness $(VENV)
