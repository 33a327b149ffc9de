# The two commands: `make run` (set up, then serve the demo on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WECHAT_PORT ?= 8100
DEMO := CITYBOT_CONFIG=config.demo.toml CITYBOT_WECHAT_API_BASE_URL=http://127.0.0.1:$(WECHAT_PORT)

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
	@echo "citybot demo on http://127.0.0.1:$(PORT)/ with the WeChat stand-in on 127.0.0.1:$(WECHAT_PORT)."
	@echo "From another terminal: make chat, or for the citybot commands of the README:"
	@echo "  . $(BIN)/activate && export CITYBOT_CONFIG=config.demo.toml"
	$(DEMO) $(BIN)/citybot demo --port $(PORT)

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
