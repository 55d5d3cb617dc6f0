# One entry point for people and CI. Everything installs into .venv from pinned versions.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: quickstart install policy-venv plan local lint test image-tests bench clean

quickstart: install plan local ## install, then the offline plan and the local ML run

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"

install: $(BIN)/python ## install the project and its pinned dependencies into .venv
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/pip check

policy-venv: ## the policy pack's own virtualenv (pulumi-policy pins protobuf 5.x; never in .venv)
	$(PYTHON) -m venv .venv-policy
	.venv-policy/bin/python -m pip install --quiet -r policy/requirements.txt
	.venv-policy/bin/python -m pip check

plan: ## what each stack declares and the cross-account wiring, with no credentials
	$(BIN)/python -m mlops_platform plan

local: ## train, evaluate and check drift on the shipped data, locally
	$(BIN)/python -m ml local --out out/local

lint: install ## ruff and mypy, configured in pyproject.toml
	$(BIN)/ruff check platform ml policy tests bench
	$(BIN)/mypy

test: install policy-venv lint ## lint, the whole test suite offline, then the step tests in the images' pins
	MLOPS_POLICY_VENV=$(CURDIR)/.venv-policy $(BIN)/python -m pytest -q
	$(BIN)/python tests/ml/steps/images/run.py

# The step scripts' tests in venvs pinned like the SageMaker images that run the scripts
# (Python 3.10 when the machine has one, else 3.11 with the same pins: the output says which).
# Venvs are cached in .venv-images/, keyed by the pin files and the interpreter.
image-tests: ## only the step tests in the images' pins (needs no .venv: standard library only)
	$(PYTHON) tests/ml/steps/images/run.py

bench: ## performance and model-quality figures
	$(BIN)/python bench/stack_evaluation.py
	$(BIN)/python bench/model_quality.py
	$(BIN)/python bench/provider_calls.py

clean:
	rm -rf $(VENV) .venv-policy .venv-images out .pytest_cache
