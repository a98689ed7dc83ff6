# Two commands matter on a fresh machine: `make run` and `make test` (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(abspath .)
VENV := .venv
VENV_RASA := .venv-rasa
PY := $(VENV)/bin/python
PY_RASA := $(VENV_RASA)/bin/python
STAMPS := .stamps
PYTHON311 ?= python3.11
export PYTHONPATH := $(ROOT)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export HF_HUB_OFFLINE := 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: help setup run test check lint types validate train index kb-check eval bench nlu-eval core-test lock clean

help:
	@echo "make run    - install what is missing, build the index, train if needed, start everything"
	@echo "make test   - every check: lint, types, knowledge-base check, rasa data validate, tests"
	@echo "make setup | index | train | eval | bench | lock | clean"

$(STAMPS):
	@mkdir -p $(STAMPS) var

$(STAMPS)/venv: requirements.txt constraints.txt | $(STAMPS)
	@command -v $(PYTHON311) >/dev/null || { echo "error: Python 3.11 ($(PYTHON311)) not found"; exit 1; }
	$(PYTHON311) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel
	$(PY) -m pip install -q torch==2.13.0 -c constraints.txt
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	@touch $@

$(STAMPS)/venv-rasa: bot/requirements.txt bot/constraints.txt | $(STAMPS)
	PY310=$$(scripts/find_python310.sh) && $$PY310 -m venv $(VENV_RASA)
	$(PY_RASA) -m pip install -q --upgrade "pip<25" wheel "setuptools==70.3.0"
	$(PY_RASA) -m pip install -q -r bot/requirements.txt -c bot/constraints.txt
	@touch $@

$(STAMPS)/web: web/package.json web/package-lock.json | $(STAMPS)
	cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(STAMPS)/venv $(STAMPS)/venv-rasa $(STAMPS)/web

index: $(STAMPS)/venv
	$(PY) -m knowledge index

train: $(STAMPS)/venv-rasa
	$(PY_RASA) scripts/train_if_needed.py

run: setup index train
	$(PY) scripts/run.py

kb-check: $(STAMPS)/venv
	$(PY) -m knowledge check

lint: $(STAMPS)/venv
	$(VENV)/bin/ruff check knowledge actions scripts tests bench bot

types: $(STAMPS)/venv
	$(VENV)/bin/mypy knowledge actions

# Rasa 3.6 reports the forms' utter_ask_* responses as unused (they are used by the forms);
# every other warning fails the check.
validate: $(STAMPS)/venv-rasa
	@$(VENV_RASA)/bin/rasa data validate --config config.yml --domain domain.yml --data bot/data > var/validate.log 2>&1 \
	  || { cat var/validate.log; exit 1; }
	@if grep "UserWarning" var/validate.log | grep -v "utter_ask_"; then echo "rasa data validate: warnings above"; exit 1; fi
	@echo "rasa data validate: ok"

check: lint types kb-check validate

E2E_REQUIRED ?= 0
test: setup check train core-test
	E2E_REQUIRED=$(E2E_REQUIRED) $(PY) -m pytest -q -rs tests

# The full national catalogue (../shared/data, absent on some machines: then skipped, never an error),
# curated procedures taking precedence over imported ones with the same code. Serve it with
# KNOWLEDGE_DATA_DIR=var/full-kb make run.
SHARED_DATA := $(abspath ../shared/data)
FULL_KB := var/full-kb
.PHONY: import
import: $(STAMPS)/venv
	@if [ -d "$(SHARED_DATA)/dvcqg" ] && [ -d "$(SHARED_DATA)/bqp-structured" ]; then \
	  echo "make import: $(SHARED_DATA) -> $(FULL_KB)"; \
	  $(PY) -m knowledge import --dvcqg "$(SHARED_DATA)/dvcqg" --bqp "$(SHARED_DATA)/bqp-structured" \
	    --out $(FULL_KB) --with-embedded --with-curated; \
	else echo "make import: skipped, $(SHARED_DATA)/dvcqg and bqp-structured are not on this machine"; fi

# Embedded dev set, then (when ../shared/data exists) the catalogue dev set over the full import,
# re-imported when the import is missing or older than the curated data or the importers.
eval: $(STAMPS)/venv
	$(PY) -m knowledge eval --dev
	@if [ -d "$(SHARED_DATA)/dvcqg" ]; then \
	  if [ ! -f $(FULL_KB)/import-report.json ] || \
	     [ -n "$$(find knowledge/data knowledge/catalogue \( -name '*.yaml' -o -name '*.py' \) \
	           -newer $(FULL_KB)/import-report.json -print -quit)" ]; then \
	    $(MAKE) --no-print-directory import || exit 1; \
	  fi; \
	  $(PY) -m knowledge eval --catalogue --data-dir $(FULL_KB); \
	else echo "make eval: catalogue figures skipped, $(SHARED_DATA) is not on this machine"; fi

bench: setup train
	$(PY) bench/search_latency.py
	$(PY) bench/scale.py --sizes 100000
	$(PY) bench/conversations.py --conversations 10

nlu-eval: train
	$(PY_RASA) bench/nlu_eval.py

core-test: train
	@echo "rasa test core: bot/tests/test_stories.yml"
	@$(VENV_RASA)/bin/rasa test core --stories bot/tests/test_stories.yml --model $$(ls -t models/*.tar.gz | head -1) \
	  --out var/core-results --fail-on-prediction-errors > var/core-test.log 2>&1 \
	  || { grep -E "Correct|Failed|story" var/core-test.log | tail -20; cat var/core-results/failed_test_stories.yml; exit 1; }
	@grep -E "Correct:" var/core-test.log | head -2

lock:
	$(PY) -m pip freeze | grep -v '^-e ' > constraints.txt.new && mv constraints.txt.new constraints.txt
	$(PY_RASA) -m pip freeze | grep -v '^-e ' > bot/constraints.txt.new && mv bot/constraints.txt.new bot/constraints.txt

clean:
	rm -rf var models $(STAMPS) .pytest_cache
