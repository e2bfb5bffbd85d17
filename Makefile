# Kehila: `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo console run test test-sqlite test-postgres lint bench i18n clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kehila demo

# Your own offline community (kept in var/console); DATA=var/demo opens the demo's month.
console: $(STAMP)
	$(BIN)/kehila console $(if $(DATA),--data $(DATA))

run: $(STAMP)
	$(BIN)/kehila run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m bot.i18n check

# The whole suite on SQLite, then again on PostgreSQL when KEHILA_TEST_DATABASE_URL is set.
test: lint test-sqlite
	@if [ -n "$$KEHILA_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "KEHILA_TEST_DATABASE_URL not set: PostgreSQL run skipped (see README)."; fi

test-sqlite: $(STAMP)
	KEHILA_TEST_BACKEND=sqlite $(BIN)/pytest -q

test-postgres: $(STAMP)
	KEHILA_TEST_BACKEND=postgres $(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	@for b in benchmarks/*.py; do [ "$$b" = benchmarks/ingest.py ] || $(BIN)/python $$b; done

i18n: $(STAMP)
	$(BIN)/python -m bot.i18n update

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
