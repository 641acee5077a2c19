# Everything the project needs is installed into .venv by these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_SCENARIO := scenarios/b2b_saas.toml

.PHONY: demo test test-slow lint bench bench-quick clean

$(VENV)/.installed-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base  ## solve the B2B example and print the plan
	$(BIN)/tradeoff solve $(DEMO_SCENARIO)

test: $(VENV)/.installed-test  ## the default suite (about a minute on two cores: one test module per core)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-slow: $(VENV)/.installed-test  ## the slow checks only (large plans, high-resolution references)
	$(BIN)/python -m pytest -q -m slow -n 2 --dist loadfile

bench: $(VENV)/.installed-base  ## seeded plans of 10 to 10,000 campaigns against the generic LP, SLSQP and greedy; writes benchmarks/results.md
	$(BIN)/python benchmarks/run.py

bench-quick: $(VENV)/.installed-base  ## the same for 10, 100 and 1,000 campaigns; writes benchmarks/results-quick.md
	$(BIN)/python benchmarks/run.py --sizes 10,100,1000 --output benchmarks/results-quick.md

lint: $(VENV)/.installed-test
	$(BIN)/ruff check optimizer tests scenarios benchmarks cli.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
