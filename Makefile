# The two set-up commands: `make serve` and `make test`. Both bootstrap .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-workers lint format bench clean

# Test files spread over up to four cores (pytest-xdist); a file's tests stay together, as they
# share its fixtures' sandboxes.
PARALLEL := -n auto --maxprocesses 4 --dist loadfile

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/domainsandbox serve $(ARGS)

# Bytecode written once: where PYTHONDONTWRITEBYTECODE is set (as in some CI containers), each
# of the hundreds of sandboxes and CLI commands the suite starts would compile the package again.
BYTECODE := $(BIN)/python -m compileall -q sandbox fake_dns contracts

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BYTECODE)
	$(BIN)/python -m pytest $(PARALLEL) $(ARGS)
	$(if $(ARGS),,$(MAKE) --no-print-directory test-workers)

test-workers: $(STAMP)
	$(BYTECODE)
	DOMAINSANDBOX_TEST_WORKERS=2 $(BIN)/python -m pytest -q $(PARALLEL) -m workers

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache tests/node/node_modules
