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

.PHONY: test demo bench clean python array-api

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

# The Array API test suite (data-apis/array-api-tests, not on PyPI) run against jaxel.numpy:
# SUITE is a checkout of it made outside this repository at the commit docs/array-api.md names
# (with its array-api spec submodule). Not part of `make test`. Test files run one at a time
# (FILES narrows them; EXAMPLES is hypothesis' max examples per test, derandomized so a run
# repeats). Per-file logs and a summary go to ARRAY_API_LOGS.
SUITE ?=
EXAMPLES ?= 100
FILES ?=
ARRAY_API_LOGS ?= /tmp/jaxel-array-api
array-api: $(STAMP)
	@if [ -z "$(SUITE)" ] || [ ! -d "$(SUITE)/array_api_tests" ]; then \
	  echo "usage: make array-api SUITE=/path/to/array-api-tests [EXAMPLES=100] [FILES='test_fft.py ...']"; \
	  echo "(a checkout of github.com/data-apis/array-api-tests at the commit in docs/array-api.md,"; \
	  echo " with 'git submodule update --init'; kept outside this repository)"; exit 2; fi
	@$(PY) -c 'import ndindex, pytest_jsonreport' 2>/dev/null || \
	  $(PY) -m pip install -q ndindex pytest-json-report
	@mkdir -p $(ARRAY_API_LOGS); rm -f $(ARRAY_API_LOGS)/summary.txt; status=0; \
	files="$(FILES)"; [ -n "$$files" ] || files=$$(cd $(SUITE)/array_api_tests && ls test_*.py); \
	for f in $$files; do \
	  (cd $(SUITE) && ARRAY_API_TESTS_MODULE=jaxel.numpy JAX_ENABLE_X64=true \
	    PYTHONPATH=$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH} $(abspath $(PY)) -m pytest -p no:cacheprovider -q -rfs \
	    array_api_tests/$$f --max-examples=$(EXAMPLES) --derandomize \
	    --hypothesis-disable-deadline --skips-file $(CURDIR)/docs/array-api-skips.txt) \
	    > $(ARRAY_API_LOGS)/$${f%.py}.log 2>&1 || status=1; \
	  echo "$$f: $$(tail -n 1 $(ARRAY_API_LOGS)/$${f%.py}.log)" | tee -a $(ARRAY_API_LOGS)/summary.txt; \
	done; exit $$status

clean:
	rm -rf $(VENV)
