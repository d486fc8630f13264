# The two set-up commands: `make serve` and `make test`. Both bootstrap .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-workers lint format bench clean

# Suites that run a second time against `serve --workers 2` (see tests/conftest.py).
WORKER_SUITES := tests/test_monite.py tests/test_monite_sdk.py tests/test_autosend.py \
	tests/test_scaleway.py tests/test_vortex.py tests/test_http_faults.py \
	tests/test_scenarios.py tests/test_cli.py tests/test_dashboard.py tests/test_limits.py \
	tests/test_credentials.py tests/test_ses.py

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/domainsandbox serve $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(ARGS)
	$(if $(ARGS),,$(MAKE) --no-print-directory test-workers)

test-workers: $(STAMP)
	DOMAINSANDBOX_TEST_WORKERS=2 $(BIN)/python -m pytest -q $(WORKER_SUITES)

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
