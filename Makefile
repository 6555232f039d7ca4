# The two set-up commands: `make demo` and `make test`. Each creates the virtual
# environment and installs what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
# Which TensorFlow build to install: cpu (default) or gpu (CUDA, Linux).
BACKEND ?= cpu
JOBS ?= 2

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(BACKEND)
DEMO_DATA := data/demo
DEMO_TEST := data/demo-test
DEMO_RUN := result/demo
# Backend-neutral parts, run a second time under JAX.
JAX_TESTS := tests/models tests/training tests/evaluation tests/inference tests/targets tests/test_losses.py tests/test_optimizers.py \
	tests/serve/test_ensemble_predict.py tests/serve/test_predict.py tests/serve/test_app.py \
	tests/serve/test_tabular_run.py tests/serve/test_table_run.py tests/serve/test_explain.py

.PHONY: venv demo demo-tune test lint format clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ecgml needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(BACKEND),jax,baseline,export,formats,serve,tune,dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: venv
	@test -f $(DEMO_DATA)/D00300.hea || $(BIN)/ecgml demo-data $(DEMO_DATA)
	$(BIN)/ecgml prepare $(DEMO_DATA) --config configs/demo.json --out $(DEMO_RUN)/cache -j $(JOBS)
	@test -f $(DEMO_TEST)/D00400.hea || $(BIN)/ecgml demo-data $(DEMO_TEST) --n-records 100 --seed 1 --first-id 301
	$(BIN)/python model_training.py --config configs/demo.json --data $(DEMO_RUN)/cache --out $(DEMO_RUN)/run --quiet
	$(BIN)/python threshold.py --run $(DEMO_RUN)/run
	$(BIN)/python postprocessing.py --run $(DEMO_RUN)/run --data $(DEMO_TEST) --out $(DEMO_RUN)/test -j $(JOBS) --no-progress

# two workers of the demo's hyperparameter search on one SQLite study (after make demo)
demo-tune: venv
	@test -f $(DEMO_RUN)/cache/meta.json || $(MAKE) demo
	$(BIN)/ecgml tune --config configs/demo.json --data $(DEMO_RUN)/cache --space configs/tune/demo.json \
		--out $(DEMO_RUN)/tune --trials 4 --jobs 2

test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest
	KERAS_BACKEND=jax $(BIN)/pytest $(JAX_TESTS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache $(DEMO_RUN) $(DEMO_DATA) $(DEMO_TEST)
