# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Two test processes (the machines have two cores): the suite is about twice as fast. The
# tests marked `slow` bound wall-clock times under load of their own (an import beside
# live lookups): they run afterwards, alone.
PYTEST_ARGS ?= -n 2

.PHONY: install browser run test lint format bench-smoke clean

$(STAMP): pyproject.toml setup.py src/shieldwall/matching/_mihscan.c src/shieldwall/signals/_dogscan.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,detect]'
	# Stable Diffusion's watermark reader. --no-deps: the package requires torch and
	# opencv-python for a method Shieldwall does not use (detection/watermarks.py).
	$(PY) -m pip install --quiet --no-deps 'invisible-watermark==0.2.0'
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

test: install browser $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS) -m "not slow"
	$(PY) -m pytest -m slow

# mypy (strict) checks src and tests: the files named in pyproject.toml's [tool.mypy].
lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) build src/*.egg-info src/shieldwall/matching/*.so
