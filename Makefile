# The two commands of README.md: `make run` (demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test install compile messages

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(INSTALLED) compile

compile: $(INSTALLED)
	$(BIN)/pybabel compile --statistics -d edge/locale -D messages

run: install
	@echo "Cunban demo (Ctrl-C stops everything):"
	@echo "  central (city overview)   http://127.0.0.1:8000/   officers /officer/, monitor /nodes"
	@echo "  廉州镇 Lianzhou edge      http://127.0.0.2:8101/   staff login http://127.0.0.2:8101/login"
	@echo "  福成镇 Fucheng edge       http://127.0.0.3:8102/   staff login http://127.0.0.3:8102/login"
	@echo "  demo password for every account: cunban-demo-2026 (accounts are listed below)"
	$(BIN)/honcho start -f Procfile -e replication/demo.env

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# For developers: re-extract messages after changing user-visible text, then translate en.
messages: $(INSTALLED)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --sort-output \
		-o edge/locale/messages.pot .
	$(BIN)/pybabel update -i edge/locale/messages.pot -d edge/locale -D messages --no-fuzzy-matching
