# `make demo` and `make test` each build the same virtual environment on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n auto -p no:cacheprovider tests

demo: $(STAMP)
	$(PY) demo.py

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV)
