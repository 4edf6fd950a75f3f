# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATASET_DIR ?= datasets

.PHONY: demo test install bench gpu-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: setup.py $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Test processes: 2 suits a 2-core machine; more cores, more processes.
TEST_WORKERS ?= 2
test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --durations=10 tests

# MNIST with 100 labels (the paper's setup, --preset mnist_100) for 7,000
# steps, its schedule sized to them; then the exact evaluation and pictures.
DEMO_STEPS ?= 7000
demo: $(VENV)/.installed
	$(BIN)/python download.py --dataset MNIST --dataset_dir $(DATASET_DIR)
	$(BIN)/python trainer.py --preset mnist_100 --dataset MNIST \
	    --dataset_dir $(DATASET_DIR) --prefix demo \
	    --max_training_steps $(DEMO_STEPS) --log_step 500 \
	    --test_sample_step 1000 --output_save_step 500 --ckpt_save_step 2000
	run=$$(ls -td train_dir/demo-MNIST_* | head -n 1) && \
	$(BIN)/python evaler.py --checkpoint $$run && \
	echo "pictures in $$run; TensorBoard: $(BIN)/tensorboard --logdir train_dir"

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/data_bench.py
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/eval_bench.py

# On a machine with an NVIDIA GPU (TensorFlow's GPU build installed): about
# 8 minutes; writes benchmarks/results/gpu_check.json and prints a table.
gpu-check: $(VENV)/.installed
	$(BIN)/python benchmarks/gpu_check.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
