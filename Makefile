# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATASET_DIR ?= datasets

.PHONY: demo test install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: setup.py $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q tests

demo: $(VENV)/.installed
	$(BIN)/python download.py --dataset MNIST --dataset_dir $(DATASET_DIR)
	$(BIN)/python -m ssgan_tf.demo --dataset_dir $(DATASET_DIR)

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/data_bench.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
