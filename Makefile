# qingdan — `make demo` and `make test` work on a fresh machine with only Python and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean chromium bytecode

$(STAMP): pyproject.toml $(wildcard examples/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,web]'
	@for ex in examples/*/; do [ -f "$$ex/pyproject.toml" ] && $(BIN)/python -m pip install --quiet -e "$$ex" || true; done
	touch $(STAMP)

# Bytecode, as an installed wheel has it: an editable install compiles nothing, and where
# PYTHONDONTWRITEBYTECODE is set every command would compile the package again (~0.15 s each).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q qingdan >/dev/null

demo: $(STAMP) bytecode
	$(BIN)/qingdan demo --db demo.db

# Browser tests drive Debian's chromium (never a browser download of a test tool's own); installed
# here when missing and we may (root with apt-get), else those tests skip and say why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
		echo "chromium not installed: browser tests will be skipped"

test: $(STAMP) bytecode chromium
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm .pytest_cache
