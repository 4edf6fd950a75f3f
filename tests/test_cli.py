"""The command lines: a quiet start (no TensorFlow start-up chatter, nothing
that reads as an error; TF_CPP_MIN_LOG_LEVEL set by the user shows all), and
--helpshort listing what the README uses."""

import os
import re
import subprocess
import sys

import pytest

from ssgan_tf.cli import START_UP_CHATTER

from conftest import ROOT, run_cli, write_tiny_dataset


CHATTER_SEEN = [
    "WARNING: All log messages before absl::InitializeLog() is called are "
    "written to STDERR",
    "E0000 00:00:1733400000.123456   12345 cuda_executor.cc:1228] failed call "
    "to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR "
    "(303)",
    "I0000 00:00:1733400000.123456   12345 cpu_feature_guard.cc:210] This "
    "TensorFlow binary is optimized to use available CPU instructions in "
    "performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other "
    "operations, rebuild TensorFlow with the appropriate compiler flags.",
]


def test_the_filter_takes_the_chatter_and_nothing_else():
    for line in CHATTER_SEEN:
        assert START_UP_CHATTER.search(line), line
    for line in ["W0000 00:00:1.2 1 op_level_cost_estimator.cc:699] Error in "
                 "PredictCost() for the op: op: \"CropAndResize\"",
                 "Traceback (most recent call last):",
                 "error: --dataset: not found"]:
        assert not START_UP_CHATTER.search(line), line


def run(command, log_level=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = ROOT
    if log_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = log_level
    return subprocess.run([sys.executable, os.path.join(ROOT, command[0]),
                           *command[1:]], capture_output=True, text=True,
                          env=env, timeout=600, check=False)


def test_trainer_and_evaler_start_quietly(tiny_run, tmp_path):
    _, run_dir, _ = tiny_run
    write_tiny_dataset(tmp_path / "data")
    for command in (["evaler.py", "--checkpoint", run_dir],
                    ["trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--train_dir",
                     str(tmp_path / "runs"), "--batch_size", "8",
                     "--max_training_steps", "2"]):
        result = run(command)
        assert result.returncode == 0, result.stderr[-3000:]
        shown = [line for line in result.stderr.splitlines()
                 if START_UP_CHATTER.search(line) or "rror" in line
                 or line[:5] in ("E0000", "W0000", "I0000")]
        assert not shown, shown


def test_a_log_level_set_by_the_user_shows_everything(tiny_run):
    _, run_dir, _ = tiny_run
    quiet = run(["evaler.py", "--checkpoint", run_dir])
    loud = run(["evaler.py", "--checkpoint", run_dir], log_level="0")
    assert quiet.returncode == loud.returncode == 0, loud.stderr[-3000:]
    chatter = [line for line in loud.stderr.splitlines()
               if START_UP_CHATTER.search(line)]
    if not chatter:
        pytest.skip("TensorFlow printed no start-up chatter on this machine")
    assert not [line for line in quiet.stderr.splitlines()
                if START_UP_CHATTER.search(line)]


def test_helpshort_lists_every_flag_the_readme_uses():
    """Each command's --helpshort holds the README's flags that the command
    defines (a bool flag may appear as --noNAME)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        used = {name[2:] if name.startswith("no") and name != "name" else name
                for name in re.findall(r"--([a-z_]+)", f.read())}
    for command in ("trainer.py", "evaler.py", "download.py"):
        full = run_cli(command, "--helpfull").stdout
        short = run_cli(command, "--helpshort").stdout
        defined = set(re.findall(r"^\s+--(?:\[no\])?([a-z_]+)", full, re.M))
        listed = set(re.findall(r"^\s+--(?:\[no\])?([a-z_]+)", short, re.M))
        assert defined, full[-2000:]
        missing = (used & defined) - listed - {"helpshort", "helpfull"}
        assert not missing, (command, sorted(missing))
