# seqlab: `make demo` and `make test` work on a fresh machine with nothing installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench bench-peers bench-ttq docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU wheel on this machine's disk; the package's own `torch>=2.4`
	# is then already satisfied, so nothing can pull a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/seqlab demo

# The web page's browser test drives Debian's Chromium, headless; installed when missing (as root).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(STAMP) $(CHROMIUM)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q tests

lint: $(STAMP)
	$(VENV)/bin/ruff check seqlab tests bench
	$(VENV)/bin/ruff format --check seqlab tests bench
	$(VENV)/bin/lint-imports  # the layers in .importlinter (tests/test_layout.py runs it in make test too)

bench: $(STAMP)
	$(PY) bench/lm_throughput.py

# seqlab against Joey NMT and OpenNMT-py (their own venv in bench/peers/.venv; ~1 h on 2 idle cores)
bench-peers: $(STAMP)
	$(PY) bench/peers/run.py

# time to quality, seqlab against OpenNMT-py: G2P and Multi30k, 60 min each, 1 thread each, one after
# the other (~4.5 h on the 2 cores; --side-by-side halves it). Results: bench/results/time_to_quality.{json,png}
bench-ttq: $(STAMP)
	$(PY) bench/peers/time_to_quality.py

docs: $(STAMP)
	$(PY) -c 'from seqlab.cli import help_markdown; print(help_markdown(), end="")' > docs/cli.md

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
