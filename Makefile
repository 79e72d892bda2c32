# carepulse: every target sets up what it needs first.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Bytecode at install time, for the installed packages and carepulse's own: uv leaves it to the
# first import, and where PYTHONDONTWRITEBYTECODE is set (as on our shared machines) every dbt,
# ml and test process then compiled dbt, pandas and scikit-learn from source again (paired:
# `dbt --version` wall x0.52 with it, importing the ML step x0.34).
export UV_COMPILE_BYTECODE := 1
APP_STAMP := $(VENV)/.installed-app

.PHONY: setup app-setup app run build test test-python lint dbt-build bench clean browser java spark-setup test-spark bench-spark

# One virtualenv with the exact pins from requirements.lock; uv makes it take seconds.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q carepulse ml
	touch $(STAMP)

setup: $(STAMP)

# The optional explorer/BI extra (.[app]: Streamlit, SQLAlchemy, duckdb-engine), pinned in
# requirements-app.lock against the main lock; `make run` stays without it, `make test` has it.
$(APP_STAMP): $(STAMP) requirements-app.lock
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock -r requirements-app.lock
	touch $(APP_STAMP)

app-setup: $(APP_STAMP)

# The read-only explorer on the published warehouse (http://127.0.0.1:8501).
app: $(APP_STAMP)
	$(BIN)/carepulse app

# Main job on the bundled defaults: demo data when the raw folder is empty, then build.
run: $(STAMP)
	$(BIN)/carepulse build

# Everything CI checks: ruff (lint and format), sqlfluff, then pytest (which drives real dbt on generated data),
# two workers (pytest-xdist) for the two cores: a test file stays on one worker (its module fixtures are
# built once) and the session warehouses are built once for both (tests/conftest.py build_once).
# spark-setup: tests/test_spark.py builds the session data on Spark too and compares.
test: $(STAMP) $(APP_STAMP) browser spark-setup
	$(BIN)/ruff check carepulse ml tests
	$(BIN)/ruff format --check carepulse ml tests
	$(BIN)/sqlfluff lint models analyses tests/dbt --disable-progress-bar
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=30

# Headless Chromium (Debian package) for the report's page test; never fails: without it
# the browser test is skipped and says so.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium unavailable: the browser test will be skipped"

# Java for local Spark (Debian package, like chromium); never fails: without it the Spark
# equality test is skipped and says so.
java:
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null) || echo "java unavailable: the Spark test will be skipped"

# The optional Spark extra (dbt-spark session + pyspark, exact pins) on top of the DuckDB setup.
SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-spark.lock
	touch $(SPARK_STAMP)

spark-setup: java $(SPARK_STAMP)

test-spark: spark-setup
	$(BIN)/python -m pytest -q tests/test_spark.py

bench-spark: spark-setup
	CAREPULSE_TARGET=spark $(BIN)/carepulse bench --scale $${SCALE:-1}

lint: $(STAMP)
	$(BIN)/ruff check carepulse ml tests
	$(BIN)/ruff format --check carepulse ml tests
	$(BIN)/sqlfluff lint models analyses tests/dbt --disable-progress-bar

bench: $(STAMP)
	$(BIN)/carepulse bench --scale $${SCALE:-1}

clean:
	rm -rf target logs warehouse reports data
