# Two commands do everything: `make reports` and `make test` (see README.md).
SHELL := /bin/bash
PY := .venv/bin/python
# one BLAS thread per process: the tests run in two xdist workers on two cores, and threaded BLAS in
# each oversubscribes them (a MixedLM fit went from 4 s to 120 s)
TEST_ENV := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
.DEFAULT_GOAL := help

.PHONY: help venv sysdeps reports findings test test-fast data validate lab verify lock bench clean-reports

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

venv: ## create or refresh .venv from requirements.lock (no-op when unchanged)
	@bash tools/ensure-venv.sh

sysdeps: ## install system packages the tests need (R + survey, ordinal, lme4, MASS; chromium; CJK font) if missing
	@bash tools/sysdeps.sh test

reports: venv ## build every report from the default data into the site reports/site/ (open its index.html)
	@bash tools/sysdeps.sh reports
	$(PY) -m helpers build

findings: reports ## copy the default site's changed findings into the committed ledger reports/findings/
	$(PY) -m helpers findings --update

test: venv sysdeps ## run every test (what CI runs)
	$(TEST_ENV) $(PY) -m pytest -n 2 --dist loadgroup

test-fast: venv ## quick iteration: skip the slow tests (notebooks, R, browser)
	$(TEST_ENV) $(PY) -m pytest -n 2 -m "not slow"

data: venv ## regenerate the synthetic default data byte for byte
	$(PY) -m helpers synth --out data

validate: venv ## check the data folder against the contract
	$(PY) -m helpers validate data

verify: venv ## re-execute everything in a temporary folder and compare the findings with the ledger
	$(PY) -m helpers verify

lab: venv ## open JupyterLab on this environment
	$(PY) -m jupyter lab notebooks

lock: venv ## regenerate requirements.lock from requirements.in (then update environment.yml)
	$(PY) -m uv pip compile requirements.in --python-version 3.11 --generate-hashes \
	  -o requirements.lock --custom-compile-command "make lock"
	$(PY) tools/sync_environment.py

bench: venv ## run the benchmarks (they print their figures)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-reports: ## remove the built sites and the build cache (reports/site/, reports/sites/, .build-cache/)
	rm -rf reports/site reports/sites .build-cache
