# `make demo` and `make test` each build the same virtual environment on a fresh machine.
# jaxel needs Python 3.12 (jaxlib 0.12.1 has no wheels for older Pythons). A `python3.12` on
# PATH may be a pyenv shim that exists yet fails, so each candidate is tried by running it.
PYTHON ?= $(shell for p in python3.12 $$(pyenv root 2>/dev/null)/versions/3.12.*/bin/python3.12 \
                        /usr/local/bin/python3.12 /usr/bin/python3.12; do \
                    if "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; \
                    then echo "$$p"; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench clean python

python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "jaxel needs Python 3.12 and found none that runs (tried python3.12 on PATH and"; \
	  echo "pyenv's versions/3.12.*). Install one, e.g. 'pyenv install 3.12' or your OS's"; \
	  echo "python3.12 package with venv, or run 'make PYTHON=/path/to/python3.12 ...'."; \
	  exit 1; fi

$(STAMP): pyproject.toml | python
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
