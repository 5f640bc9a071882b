# The two everyday commands: `make run` serves the API, `make test` proves it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export FLASK_APP := wsgi.py

.PHONY: run test migrate openapi readme bench clean system-packages-test system-packages-bench

# Serving needs the app and the PostgreSQL driver only; the test and bench
# tools install on top, with the target that uses them.
$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[postgres]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[postgres,dev]'
	touch $@

# The system packages a target needs (chromium, curl; wrk): installed with
# apt-get when missing and we are root, else one line says what to run.
system-packages-test system-packages-bench:
	@scripts/system-packages $(@:system-packages-%=%)

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[postgres,bench]'
	touch $@

run: $(VENV)/.installed  ## migrate the database, then serve on HOST:PORT with gunicorn
	$(BIN)/flask db upgrade
	$(BIN)/flask members bootstrap  # a fresh database: a first parent and its token
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: system-packages-test $(VENV)/.installed-dev  ## lint, then the whole suite with branch coverage of app/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest --cov --cov-report=term-missing $(PYTEST_ARGS)

migrate: $(VENV)/.installed  ## bring the database to the newest migration
	$(BIN)/flask db upgrade

bench: system-packages-bench $(VENV)/.installed-bench  ## req/s against a ceiling app, scaling, memory -> bench/results/
	$(BIN)/python -m bench

openapi: $(VENV)/.installed  ## regenerate docs/openapi.json (commit the diff)
	$(BIN)/python docs/generate_openapi.py

readme:  ## copy docs/walkthrough.sh into README.md (commit the diff)
	$(PYTHON) docs/sync_readme.py

clean:
	rm -rf $(VENV) .pytest_cache .coverage htmlcov .hypothesis .ruff_cache
