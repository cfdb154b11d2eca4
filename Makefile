# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test install serve lint clean browser

install: $(VENV)/.installed .env

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Fresh random keys for this machine; never committed (.gitignore). The values are URL-safe,
# so they hold no '$' that django-environ would interpolate.
.env:
	$(BIN)/python -c "import secrets; open('.env', 'w').write('SECRET_KEY=\"%s\"\nSALT_KEY=\"%s\"\nDEBUG=true\n' % (secrets.token_urlsafe(50), secrets.token_urlsafe(32)))"
	@echo "Wrote .env with new SECRET_KEY and SALT_KEY."

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_admin
	SANDBOX_BASE_URL=http://$(HOST):$(PORT)/sandbox $(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runconsole --host $(HOST) --port $(PORT)

# The web server and a q cluster together (manage.py runconsole): Ctrl-C or SIGTERM stops both.
serve:
	$(BIN)/python manage.py runconsole --host $(HOST) --port $(PORT)

test: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests drive Debian's chromium (never a browser Playwright downloads). Installed
# here when missing and possible; without it they are skipped, except under CI where they fail.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "Could not install chromium: the browser tests will be skipped (and fail under CI)."; \
	else echo "chromium is missing and cannot be installed here: the browser tests will be skipped."; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
