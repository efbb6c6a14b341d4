# Two commands on a fresh clone: `make bench` and `make test`. Each creates .venv and installs what is
# missing: torch 2.13.0 (the local CPU build) first, then the project pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check

.PHONY: install bench test check lock clean baseline gate report dashboard

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install torch==2.13.0
	$(PIP) install -c constraints.txt -e ".[dev]"
	touch $(STAMP)

bench: $(STAMP)
	$(BIN)/harness bench

# tests/integration/test_postgres.py runs a PostgreSQL-backed mlflow server: Debian's postgresql, installed here
# when missing and we are root (the tests themselves never install anything; without it they skip).
# The system packages the tests use (PostgreSQL for the team MLflow server, Chromium for the report) are
# installed here where missing and we are root; the tests themselves never install, they skip.
test: $(STAMP)
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing for the tests:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(BIN)/python -m pytest

# Promote the latest runs to reports/baselines/ (commit them after review); gate later runs against them.
baseline: $(STAMP)
	$(BIN)/harness baseline

gate: $(STAMP)
	$(BIN)/harness gate

# reports/latest/index.html and index.md from the latest run of each suite × system (bench writes it too).
report: $(STAMP)
	$(BIN)/harness report

# The MLflow UI over the project's store, on loopback only. A team server: see the README's dashboard section.
DASHBOARD_PORT ?= 5000
dashboard: $(STAMP)
	@echo "MLflow dashboard: http://127.0.0.1:$(DASHBOARD_PORT)  (store: sqlite:///mlflow.db; Ctrl-C stops it)"
	@echo "Pick 'Model training' at the top left, then an experiment (one per suite) to see its runs."
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow server --host 127.0.0.1 --port $(DASHBOARD_PORT) \
		--workers 1 --backend-store-uri sqlite:///mlflow.db

check: $(STAMP)
	$(BIN)/ruff check harness tests benchmarks suites
	$(BIN)/ruff format --check harness tests benchmarks suites
	$(BIN)/mypy harness

# Re-resolve the pinned set after changing pyproject.toml's ranges, in a scratch venv.
lock:
	rm -rf /tmp/harness-lock && $(PYTHON) -m venv /tmp/harness-lock
	/tmp/harness-lock/bin/pip install --quiet torch==2.13.0 && /tmp/harness-lock/bin/pip install --quiet -e ".[dev]"
	{ echo "# Exact versions tested together (pip freeze of a fresh .venv, Python 3.11). Used as pip -c so a fresh"; \
	  echo "# install resolves the same set without backtracking. Regenerate with: make lock"; \
	  /tmp/harness-lock/bin/pip freeze | grep -v -E "^(torch==|-e |harness)"; echo "torch==2.13.0"; } > constraints.txt

clean:
	rm -rf $(VENV) .cache reports/runs reports/latest mlflow.db mlartifacts
