# Two commands on a fresh clone (Python 3.11+, pip, make): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
# Snakemake 9 runs `script:` rules as `<python> <script>` without quoting the interpreter, so a
# virtual environment under a path with a space breaks every rule: put it where there is none.
ifneq ($(word 2,$(CURDIR)),)
VENV := $(HOME)/.cache/premeta/venv-$(shell printf '%s' "$(CURDIR)" | sha1sum | cut -c1-12)
endif
BIN := $(VENV)/bin
CORES ?= 2
# cluster-test: 1 also starts slurmdbd (a cluster with accounting)
ACCOUNTING ?= 0

.PHONY: run test test-fast fixtures lint docs cluster-test bench bench-pipeline bench-gosh bench-multiverse bench-selmodel lock clean

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

run: $(BIN)/.installed  ## the main job on the bundled (simulated) sheet
	$(BIN)/snakemake --cores $(CORES)
	@echo "Report: '$(CURDIR)/results/report.html'"

# 2 processes (CI has 2 cores; pytest-xdist), a test file each at a time: a module's shared
# workflow runs are made once, a session's (bundled, minocycline_a, ...) once per process that uses it
test: $(BIN)/.installed  ## every test, the real workflow included
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: $(BIN)/.installed  ## the library's tests: no workflow run, no browser, nothing slow; 2 processes (the dev loop)
	$(BIN)/python -m pytest -m "not workflow and not browser and not slow" -n 2 --dist loadfile

# every R fixture, each script run from the repository root as its header says (R, metafor,
# metadat, clubSandwich, robumeta, jsonlite: CONTRIBUTING.md); then what changed
fixtures:  ## rerun every tests/reference/make_*.R and tests/data/make_corpus*.R, then git diff --stat
	set -e; for script in tests/reference/make_*.R tests/data/make_corpus.R tests/data/make_corpus_doses.R; do \
	  echo "Rscript $$script"; Rscript "$$script" >/dev/null; done
	git diff --stat -- tests/reference tests/data

lint: $(BIN)/.installed  ## ruff on the Python code ([tool.ruff], pyproject.toml); the Snakefile: snakemake --lint, in the tests
	$(BIN)/ruff check src tests workflow/scripts benchmarks data

docs: $(BIN)/.installed  ## the documentation site (Sphinx, docs/) into docs/_build/html; a warning fails it
	$(BIN)/sphinx-build -E -q -W --keep-going -b html docs docs/_build/html
	@echo "Docs: '$(CURDIR)/docs/_build/html/index.html'"

$(BIN)/.slurm-installed: $(BIN)/.installed requirements-slurm.lock
	$(BIN)/pip install --quiet -r requirements-slurm.lock -c requirements.lock
	touch $@

cluster-test: $(BIN)/.slurm-installed  ## the workflow on a single-node SLURM started here (root, Debian 12; ACCOUNTING=1: with slurmdbd)
	ACCOUNTING=$(ACCOUNTING) tests/cluster/slurm.sh $(BIN)

bench: $(BIN)/.installed  ## premeta beside PyMARE, statsmodels and metafor (if Rscript exists); then the selection models (bench-selmodel)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/bench_selmodel.py

bench-pipeline: $(BIN)/.installed  ## wall time, CPU time and peak memory of the workflow (bundled, no-op, all analyses, 10,000 rows; BENCH_ARGS)
	$(BIN)/python benchmarks/bench_pipeline.py $(BENCH_ARGS)

bench-gosh: $(BIN)/.installed  ## GOSH, all 2^k - 1 subsets at k = 15 and 20, beside metafor gosh() (if Rscript exists)
	$(BIN)/python benchmarks/bench_gosh.py

bench-multiverse: $(BIN)/.installed  ## the default multiverse on the bundled sheet and 100 groups, beside metafor (sample, if Rscript exists)
	$(BIN)/python benchmarks/bench_multiverse.py

bench-selmodel: $(BIN)/.installed  ## selection models on 200 strata: stacked, a loop, and metafor selmodel() (if Rscript exists)
	$(BIN)/python benchmarks/bench_selmodel.py

# matplotlib 3.11 lays text out with libraqm: three times slower per label, and forest plots are
# mostly labels (benchmarks/README.md); the lock keeps 3.10 until that is faster
lock:  ## re-resolve requirements.lock from pyproject.toml in a clean environment
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet ".[workflow,bench,test,docs]" "matplotlib<3.11"
	.lockenv/bin/pip freeze --exclude-editable | grep -v '^premeta' > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf results logs .snakemake
