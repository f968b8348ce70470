# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Two test processes (the machines have two cores): the suite is about twice as fast. The
# tests marked `slow` bound wall-clock times under load of their own (an import beside
# live lookups): they run afterwards, alone.
PYTEST_ARGS ?= -n 2

.PHONY: install browser run test lint format bench-smoke clean synapse-env

$(STAMP): pyproject.toml integrations/synapse/pyproject.toml setup.py src/shieldwall/matching/_mihscan.c src/shieldwall/signals/_dogscan.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,detect]'
	# Stable Diffusion's watermark reader. --no-deps: the package requires torch and
	# opencv-python for a method Shieldwall does not use (detection/watermarks.py).
	$(PY) -m pip install --quiet --no-deps 'invisible-watermark==0.2.0'
	# The Synapse module's own parts (configuration, signatures) for its unit tests and
	# lint; Synapse itself lives in $(SYNAPSE_VENV).
	$(PY) -m pip install --quiet --no-deps -e integrations/synapse
	touch $(STAMP)

# onnxruntime-web (npm) runs the face models in the enrolment page; the service serves it.
ORT_WEB := $(VENV)/onnxruntime-web/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs
$(ORT_WEB): | $(STAMP)
	npm install --prefix $(VENV)/onnxruntime-web onnxruntime-web@1.30.0 --no-audit --no-fund --silent

install: $(STAMP) $(ORT_WEB)

run: install
	$(VENV)/bin/shieldwall db upgrade
	$(VENV)/bin/shieldwall serve

# The browser tests (tests/e2e) drive Debian's Chromium; install it when it is missing, with
# a CJK font so that screenshots of the Korean pages can be read.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		[ "$$(id -u)" = 0 ] || { echo "install the Debian package chromium (needs root)" >&2; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@fc-list :lang=ko 2>/dev/null | grep -q . || { [ "$$(id -u)" != 0 ] || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || \
		echo "no Korean font (fonts-noto-cjk): Korean screenshots will show boxes" >&2; }

# axe-core (npm) checks the pages' accessibility in the browser tests; kept inside .venv.
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js
$(AXE): | $(STAMP)
	npm install --prefix $(VENV)/axe axe-core@4 --no-audit --no-fund --silent

# Synapse and the Shieldwall module (integrations/synapse) for the Matrix end-to-end tests,
# in an environment of their own: Synapse's pins are not the product's. The module is
# installed editable, so the tests load the module as it is in the tree.
SYNAPSE_VENV := .venv-synapse
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.installed
$(SYNAPSE_STAMP): integrations/synapse/pyproject.toml
	test -x $(SYNAPSE_VENV)/bin/python || $(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet 'matrix-synapse==1.163.2' psycopg2-binary mypy -e integrations/synapse
	touch $@

synapse-env: $(SYNAPSE_STAMP)

test: install browser $(AXE) $(SYNAPSE_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS) -m "not slow"
	$(PY) -m pytest -m slow

# mypy (strict) checks src and tests: the files named in pyproject.toml's [tool.mypy].
lint: install $(SYNAPSE_STAMP)
	$(VENV)/bin/ruff check src tests bench integrations
	$(VENV)/bin/ruff format --check src tests bench integrations
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	cd integrations/synapse && ../../$(SYNAPSE_VENV)/bin/mypy  # the module, against Synapse's types

format: install
	$(VENV)/bin/ruff format src tests bench integrations
	$(VENV)/bin/ruff check --fix src tests bench integrations

clean:
	rm -rf $(VENV) build src/*.egg-info src/shieldwall/matching/*.so
