# Everything the project needs is installed into .venv by these targets, at the versions in
# constraints.txt (the ones the whole suite passed with). `make lock` moves them to the newest releases.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_SCENARIO := scenarios/b2b_saas.toml
CONSTRAINTS := constraints.txt
NEWEST := .venv-newest

.PHONY: demo test test-slow test-newest lock lint bench bench-quick clean

$(VENV)/.installed-base: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base  ## solve the B2B example and print the plan
	$(BIN)/tradeoff solve $(DEMO_SCENARIO)

test: $(VENV)/.installed-test  ## the default suite (about a minute on two cores: one test module per core)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-slow: $(VENV)/.installed-test  ## the slow checks only (large plans, high-resolution references, 200 random scenarios priced)
	$(BIN)/python -m pytest -q -m slow -n 2 --dist load

$(NEWEST)/.installed: pyproject.toml
	rm -rf $(NEWEST)
	$(PYTHON) -m venv $(NEWEST)
	$(NEWEST)/bin/pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	touch $@

test-newest: $(NEWEST)/.installed  ## the contract tests on the newest release of every dependency (not the locked ones)
	$(NEWEST)/bin/pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	$(NEWEST)/bin/pip freeze --exclude-editable | grep -i -E '^(highspy|pulp|numpy|pandas|scipy|matplotlib|click|pydantic|openpyxl)=='
	$(NEWEST)/bin/python -m pytest -q -n 2 --dist loadfile tests/test_process_contract.py tests/test_process_signals.py tests/test_contract.py tests/test_stdin.py

lock: $(NEWEST)/.installed  ## move constraints.txt to the newest releases, once the whole suite (slow checks too) passes on them
	$(NEWEST)/bin/pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	$(NEWEST)/bin/python -m pytest -q -n 2 --dist loadfile -m 'slow or not slow'
	{ sed -n '1,2p' $(CONSTRAINTS); $(NEWEST)/bin/pip freeze --exclude-editable | grep -v -E '^(-e|#)'; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	@echo "constraints.txt now holds the versions the suite just passed with: review the diff, then commit it"

bench: $(VENV)/.installed-base  ## seeded plans of 10 to 10,000 campaigns against the generic LP, SLSQP and greedy; writes benchmarks/results.md
	$(BIN)/python benchmarks/run.py

bench-quick: $(VENV)/.installed-base  ## the same for 10, 100 and 1,000 campaigns; writes benchmarks/results-quick.md
	$(BIN)/python benchmarks/run.py --sizes 10,100,1000 --output benchmarks/results-quick.md

lint: $(VENV)/.installed-test
	$(BIN)/ruff check optimizer tests scenarios benchmarks cli.py

clean:
	rm -rf $(VENV) $(NEWEST) *.egg-info .pytest_cache .hypothesis
