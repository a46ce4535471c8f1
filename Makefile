# make demo: a running demo exchange.  make test: the whole suite (what CI runs).
# Both install what they need: Debian packages via apt-get when run as root,
# Python packages into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := bird2 bgpq4 postgresql iproute2 stayrtr frr chromium pmacct openssh-server iperf3
# The portal's front-end packages: installed from the npm registry at build time by the
# lock file in api/assets, copied to api/static/vendor (served by the app, never fetched
# from the internet at run time). axe-core stays in node_modules: it is for the browser tests.
ASSETS := api/assets
VENDOR := api/static/vendor
VENDOR_FILES := $(ASSETS)/node_modules/htmx.org/dist/htmx.min.js \
	$(ASSETS)/node_modules/uplot/dist/uPlot.iife.min.js \
	$(ASSETS)/node_modules/uplot/dist/uPlot.min.css
export IXP_HOME ?= $(CURDIR)/var
# pytest workers: the lab's tests keep to one of them (tests/conftest.py), the rest share out.
TEST_WORKERS ?= auto

.PHONY: test demo system-deps venv assets lint clean

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "warning: not root, cannot install: $$missing (tests needing them will skip)"; \
		fi; \
	fi

$(BIN)/ixp: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/ixp

$(VENDOR)/.installed: $(ASSETS)/package.json $(ASSETS)/package-lock.json
	cd $(ASSETS) && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp $(VENDOR_FILES) $(VENDOR)/
	touch $@

assets:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(VENDOR)/.installed; \
	else echo "warning: npm is missing: the portal runs without its scripts and charts, its browser tests skip"; fi

test: system-deps venv assets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

demo: system-deps venv assets
	@mkdir -p $(IXP_HOME)
	@[ -f $(IXP_HOME)/ixp.toml ] || cp ixp/data/demo/ixp.toml $(IXP_HOME)/ixp.toml
	$(BIN)/ixp db upgrade
	$(BIN)/ixp demo load
	$(BIN)/ixp member list
	$(BIN)/ixp rs build --out $(IXP_HOME)/rs
	$(BIN)/ixp reach load ixp/data/monitor/delegated-pk-demo-extended.txt
	$(BIN)/ixp traffic demo
	$(BIN)/ixp traffic report --top 5
	@if [ "$$(id -u)" = 0 ]; then \
		$(BIN)/ixp lab down && $(BIN)/ixp lab up && \
		$(BIN)/ixp monitor run --once --lab && $(BIN)/ixp monitor sessions && \
		$(BIN)/ixp reach report --top 10 && \
		echo "A dry run of the nightly push (approved: the demo's AS-MAKRAN is missing from the registry on purpose):" && \
		$(BIN)/ixp push --dry-run --approve --lab --rpsl ixp/data/demo/registry.rpsl && \
		echo "The lab is up. Live RIB, alerts and reachability: $(BIN)/ixp monitor run --lab"; \
	else \
		echo "not root: skipping the lab (real BGP sessions need network namespaces)"; \
	fi
	$(BIN)/ixp demo logins
	@echo "Portal: http://127.0.0.1:$${IXP_WEB_PORT:-8080}/  web API: /api/v1/docs  looking glass: /lg/  (Ctrl-C stops it)"
	@if [ "$$(id -u)" = 0 ]; then $(BIN)/ixp serve --lab; else $(BIN)/ixp serve; fi

clean:
	rm -rf $(VENV) var $(ASSETS)/node_modules $(VENDOR)
