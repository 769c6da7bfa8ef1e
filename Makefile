# dashgen: `make dashboards` renders rendered/ offline; `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# No .pyc files beside the sources. The definitions' bytecode is kept by the loader in the
# project's signed cache (generator/cache.py) whatever this says, and dashgen's own in the
# user's (generator/_bytecode.py: ~/.cache/dashgen/bytecode). A PYTHONPYCACHEPREFIX
# instead would make Python ignore the installed standard library's bytecode and, where
# writing is off, compile the standard library in every process (dashgen --help: 0.05 ->
# 0.26 s CPU).
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := dashboards
.PHONY: dashboards render test check diff upload stack stack-stop e2e bench docs tools update-golden git-setup emulator help

help: ## list the targets (each documented by its trailing comment; tests/test_makefile.py checks)
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# dashgen (the tool) and raymontology-metrics (appmetrics/: the app's metrics, which this
# project's catalog reads) are two distributions; the tool's wheel holds no project code.
$(STAMP): pyproject.toml appmetrics/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,stack]' -e ./appmetrics
	@touch $@

dashboards: $(STAMP) ## set up the environment and render rendered/ (offline)
	$(BIN)/dashgen render

render: dashboards ## the same as `make dashboards`

tools: ## make sure promtool and amtool (Debian's prometheus, prometheus-alertmanager) are present
	@scripts/ensure-tools

# --dist loadfile: a test file runs on one worker, in order, so module fixtures (the README's
# scratch project, whose examples build on each other) are made once and seen in order.
# The tests (and every process they start) keep their bytecode in .cache/pycache: without it,
# each worker rewrote and compiled every test module at start-up (collection 3.8 -> 1.3 s).
test: $(STAMP) tools ## run the tests on every core (installs promtool and amtool where the machine allows)
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/.cache/pycache $(BIN)/pytest -q -n auto --dist loadfile

update-golden: $(STAMP) ## rewrite every golden file (rendered/, the import report) from the code (review the diff!)
	$(BIN)/pytest -q -m golden --update-golden

check: $(STAMP) tools ## rendered/ is current and every offline check passes
	$(BIN)/dashgen render --check
	$(BIN)/dashgen check

diff: $(STAMP) ## semantic diff against REF (default HEAD) or ENV
	$(BIN)/dashgen diff $(if $(ENV),--env $(ENV),--against $(or $(REF),HEAD))

upload: $(STAMP) ## sync Grafana (ENV=production, FLAGS=--dry-run); needs GRAFANA_TOKEN
	$(BIN)/dashgen upload --env $(or $(ENV),$(error set ENV, e.g. make upload ENV=production)) $(FLAGS)

stack: $(STAMP) ## run the local reference stack (Ctrl-C stops it)
	$(BIN)/python -m stack.run

stack-stop: ## stop a reference stack started from this checkout
	$(BIN)/python -m stack.run stop

e2e: $(STAMP) tools ## prove every panel and alert against the reference stack
	$(BIN)/pytest -q -m e2e --timeout=1200

bench: $(STAMP) tools ## print timing figures
	@for b in bench/*.py; do [ -e "$$b" ] || continue; $(BIN)/python "$$b" || exit 1; done

docs: dashboards ## rendered/docs is written by `dashgen render`

emulator: $(STAMP) ## run the Grafana API emulator in the foreground (PORT=3000, TOKEN=dev-token)
	PYTHONPATH=tests $(BIN)/python -m grafana_emulator --port $(or $(PORT),3000) --token $(or $(TOKEN),dev-token)

git-setup: $(STAMP) ## make `git diff` and `git log -p` show rendered/ semantically
	@scripts/git-setup
