# Every target creates and uses the local virtualenv by itself: on a fresh machine with only
# Python 3.11+ and make, `make demo` and `make test` need nothing typed first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv test lint types contracts pytest demo bench fidelity mutation clean kobo-bundle test-kobo clean-kobo

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kksync needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make test: lint, import contracts, types and the whole test suite
test: lint contracts types pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

contracts: $(STAMP)
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider

## make demo: build a demo Kobo in demo-device/ and sync it for real
demo: $(STAMP)
	$(BIN)/kksync demo demo-device

## make bench: kksync as ratios to a floor measured alongside (numbers, not assertions)
## quick mode: make bench BENCH_SIZES=500
BENCH_SIZES ?= 500,2000,8000
bench: $(STAMP)
	$(BIN)/python -m tests.bench.run --sizes $(BENCH_SIZES)

## make fidelity: positions judged by KOReader's engine (needs shared/tools/crengine), prints a table
fidelity: $(STAMP)
	$(BIN)/python -m tests.fidelity.measure

## make mutation: mutation testing of domain/, prints the score
mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python -m tests.mutation_score

## make kobo-bundle: dist/kksync-kobo-<version>.zip for the Kobo (docs/kobo-bundle.md); needs root for apt
kobo-bundle:
	tools/kobo_bundle/host_setup.sh
	$(PYTHON) -m tools.kobo_bundle.build

## make test-kobo: build the bundle, then run it under qemu-arm-static (slow; not part of make test)
test-kobo: kobo-bundle $(STAMP)
	$(PYTHON) -m tools.kobo_bundle.build qemu-sysroot
	KKSYNC_KOBO_BUNDLE=dist/kksync-kobo-$$($(PYTHON) -c 'from entrypoints.version import VERSION; print(VERSION)').zip \
	    $(BIN)/pytest -p no:cacheprovider -s -v tests/kobo

clean:
	rm -rf $(VENV) mutants demo-device .mypy_cache .ruff_cache .pytest_cache

## make clean-kobo: forget every cached piece of the Kobo bundle build (the next one starts from scratch)
clean-kobo:
	rm -rf build/kobo dist/kksync-kobo-*.zip
