# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
export DASHBOARD_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test test-fast install install-test demo snapshot lint browser proxies screenshots bench clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(PY) -m pip install --quiet --no-compile -e .
	touch $@

# One resolution for the app and the test tools together (it also satisfies `.installed`). Without
# byte-compiling every installed file up front (--no-compile): Python compiles the modules it imports
# on first use; this halves the install (82 s -> 39 s here).
$(VENV)/.installed-test: pyproject.toml $(VENV)/.created
	$(PY) -m pip install --quiet --no-compile -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browser proxies

# Debian's Chromium for the browser tests (never a Playwright browser download).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium missing; browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

# Debian's nginx and Caddy: tests/test_proxy_mode.py runs docs/DEPLOY.md's proxy-mode examples through them.
proxies:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] || ! command -v caddy >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      nginx caddy >/dev/null; \
	  else echo "note: nginx or caddy missing; the proxy-mode tests will be skipped (apt-get install nginx caddy)"; fi; \
	fi

demo: install
	$(PY) -m dashboard demo --scale small

snapshot: install
	$(PY) -m dashboard snapshot

# Demo stores and a snapshot only if none exists, then the app on 127.0.0.1.
run: install
	@# Demo stores carry a marker (demo mode is allowed only over them); older ones without it are made anew.
	@if [ ! -f "$(DASHBOARD_DATA_DIR)/demo/helpdesk/.dashboard-demo" ]; then \
	  $(PY) -m dashboard demo --scale small && $(PY) -m dashboard snapshot; fi
	$(PY) -m dashboard snapshot --if-missing
	$(PY) -m dashboard kpi-backfill --if-empty
	DASHBOARD_AUTH=demo $(PY) -m dashboard serve --server.address 127.0.0.1 --server.port $(PORT) --server.headless true

# The suite on both cores (pytest-xdist), then alone what measures time against a budget.
test: install-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2 -m "not solo" --durations=15
	@# The timing tests measure the app, not the parallel part's aftermath (writeback, servers shutting down).
	sync; sleep 5
	$(PY) -m pytest -q -m solo

# The inner loop: everything but the browser, PostgreSQL and the wheel (about a minute on 2 cores).
test-fast: $(VENV)/.installed-test
	$(PY) -m pytest -q -n 2 -m "not solo and not e2e and not postgres and not wheel"

# Full-page PNGs of every page on fresh demo data (desktop width, German) for the README.
screenshots: install-test
	$(PY) -m tests.e2e.screenshots docs/screenshots

# The large profile and the performance budget (docs/PERFORMANCE.md); not part of `make test`.
BENCH_DIR ?= $(CURDIR)/bench/data
bench: install-test
	$(PY) -m bench.run --profile large --data-dir $(BENCH_DIR) --reuse

lint: install-test
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
