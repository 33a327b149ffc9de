# The two commands: `make run` (set up, then serve the demo on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := CITYBOT_CONFIG=config.demo.toml
PORT ?= 8000

.PHONY: setup run chat test lint bench clean

$(BIN)/citybot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/citybot

run: setup
	$(DEMO) $(BIN)/citybot db upgrade
	$(DEMO) $(BIN)/citybot poi demo
	$(DEMO) $(BIN)/citybot sorting load --sample
	@echo "citybot demo on http://127.0.0.1:$(PORT)/wechat - chat with it from another terminal: make chat"
	$(DEMO) $(BIN)/gunicorn --workers 1 --threads 4 --bind 127.0.0.1:$(PORT) --no-control-socket 'bot:create_app()'

chat: setup
	$(DEMO) $(BIN)/citybot chat --url http://127.0.0.1:$(PORT)/wechat

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -q --clock-shift-days=366 -m "not browser and not faults"

bench: setup
	$(BIN)/python bench/nearest.py
	$(BIN)/python bench/poi_load.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/bench_console.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache
