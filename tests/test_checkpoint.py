"""Run folders and checkpoints that meet accidents: a damaged newest
checkpoint, a damaged state file, half-written run files, two trainers, a
rerun, NaN weights, Ctrl-C. Each case does what a user would and checks the
promised outcome: the previous good checkpoint used, or one `error:` line,
exit 2, and the folder as it was."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib

from conftest import ROOT, assert_one_line_error, run_cli, write_tiny_dataset

SMALL_RUN = ["--batch_size", "8", "--n_z", "16", "--log_step", "2",
             "--test_sample_step", "2", "--output_save_step", "100",
             "--write_summary_step", "2"]


def folder_hashes(path):
    """{relative file: sha256} of everything under `path`."""
    hashes = {}
    for folder, _, names in os.walk(path):
        for name in names:
            full = os.path.join(folder, name)
            with open(full, "rb") as f:
                hashes[os.path.relpath(full, path)] = hashlib.sha256(
                    f.read()).hexdigest()
    return hashes


@pytest.fixture
def run_copy(tiny_run, tmp_path):
    """A copy of the shared tiny run (checkpoints at 10, 20 and 30)."""
    root, run_dir, _ = tiny_run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return root, str(copy)


def data_file(prefix):
    return prefix + ".data-00000-of-00001"


def truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def flip_bytes(path):
    """Flips bytes in the middle of a file: its checksums no longer match."""
    with open(path, "r+b") as f:
        size = os.path.getsize(path)
        f.seek(size // 2)
        chunk = f.read(16)
        f.seek(size // 2)
        f.write(bytes(b ^ 0xFF for b in chunk))


def garble(path):
    with open(path, "wb") as f:
        f.write(os.urandom(300))


DAMAGE = {
    "truncated data": lambda run: truncate(data_file(f"{run}/model-30")),
    "bad checksum": lambda run: flip_bytes(data_file(f"{run}/model-30")),
    "broken index": lambda run: garble(f"{run}/model-30.index"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_a_damaged_newest_checkpoint_is_named_and_the_one_before_used(
        run_copy, kind):
    root, run = run_copy
    DAMAGE[kind](run)
    assert ckpt_lib.damage(f"{run}/model-30") is not None
    assert ckpt_lib.damage(f"{run}/model-20") is None
    result = run_cli("evaler.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint", run, "--noplots")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "model-30: does not read back" in result.stdout
    assert "at step 20" in result.stdout
    # no warning lines of TensorFlow's Python logging about the checkpoint
    assert not [line for line in result.stderr.splitlines()
                if re.match(r"W\d{4} ", line) or "checkpoint" in line.lower()]
    if kind != "truncated data":
        return  # the trainer finds checkpoints as the evaler does: one kind
    result = run_cli("trainer.py", "--checkpoint", run,
                     "--max_training_steps", "24", *SMALL_RUN)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resumed from" in result.stdout and "at step 20" in result.stdout
    assert os.path.isfile(f"{run}/model-24.index")


@pytest.mark.parametrize("state", [b"\x80\x81garbage\xff" * 20])
def test_a_damaged_state_file_loses_nothing(run_copy, state):
    root, run = run_copy
    with open(f"{run}/checkpoint", "wb") as f:
        f.write(state)
    result = run_cli("evaler.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint", run, "--noplots")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "at step 30" in result.stdout
    # following the run needs the state file: one line, nothing written
    before = folder_hashes(run)
    result = run_cli("evaler.py", "--checkpoint", run, "--watch",
                     "--watch_timeout", "1")
    assert_one_line_error(result, "--watch", "checkpoint is damaged")
    assert folder_hashes(run) == before
    # a resume of the folder sets the state file aside and writes a new one
    result = run_cli("trainer.py", "--checkpoint", run,
                     "--max_training_steps", "32", *SMALL_RUN)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "moved to checkpoint.damaged" in result.stdout
    assert os.path.isfile(f"{run}/checkpoint.damaged")
    assert tf.train.latest_checkpoint(run).endswith("model-32")


def test_no_readable_checkpoint_is_one_error_and_nothing_changes(run_copy):
    root, run = run_copy
    for step in (10, 20, 30):
        truncate(data_file(f"{run}/model-{step}"))
    before = folder_hashes(run)
    for script, extra in (("evaler.py", ["--dataset", "tiny", "--dataset_dir",
                                         str(root / "data")]),
                          ("trainer.py", [])):
        result = run_cli(script, "--checkpoint", run, *extra)
        assert_one_line_error(result, "no checkpoint of the folder reads back")
        assert folder_hashes(run) == before


def test_an_explicit_damaged_checkpoint_is_one_error(run_copy):
    root, run = run_copy
    flip_bytes(data_file(f"{run}/model-20"))
    before = folder_hashes(run)
    result = run_cli("trainer.py", "--checkpoint", f"{run}/model-20")
    assert_one_line_error(result, "model-20", "does not read back")
    assert folder_hashes(run) == before


def test_half_written_run_files_do_not_stop_a_resume(run_copy):
    _, run = run_copy
    truncate(f"{run}/fixed_noise.npy")
    with open(f"{run}/fixed_noise.npy", "r+b") as f:
        f.truncate(20)
    os.makedirs(f"{run}/model-40_temp")  # a save killed midway
    result = run_cli("trainer.py", "--checkpoint", run,
                     "--max_training_steps", "32", *SMALL_RUN)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "fixed_noise.npy: unreadable" in result.stdout
    assert not os.path.exists(f"{run}/model-40_temp")
    assert np.load(f"{run}/fixed_noise.npy").shape == (64, 16)


def test_a_rerun_of_a_named_run_is_refused_and_the_run_kept(tmp_path):
    write_tiny_dataset(tmp_path / "data")
    command = ["trainer.py", "--dataset", "tiny", "--dataset_dir",
               str(tmp_path / "data"), "--train_dir", str(tmp_path / "runs"),
               "--run_name", "rerun", "--max_training_steps", "4",
               "--ckpt_save_step", "2", *SMALL_RUN]
    assert run_cli(*command).returncode == 0
    before = folder_hashes(tmp_path / "runs" / "rerun")
    result = run_cli(*command)
    assert_one_line_error(result, "--run_name rerun", "--checkpoint")
    assert folder_hashes(tmp_path / "runs" / "rerun") == before


def test_a_second_trainer_on_a_folder_in_use_is_refused(run_copy):
    _, run = run_copy
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from ssgan_tf.run_folder import Lock\nlock = Lock(sys.argv[1])\n"
         "print('locked', flush=True)\ntime.sleep(120)", run],
        stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = folder_hashes(run)
        result = run_cli("trainer.py", "--checkpoint", run,
                         "--max_training_steps", "40")
        assert_one_line_error(result, "another trainer", str(holder.pid))
        assert folder_hashes(run) == before
    finally:
        holder.kill()
        holder.wait(timeout=30)


DIVERGE = ["--learning_rate_d", "1e6", "--learning_rate_g", "1e6",
           "--ckpt_save_step", "1", "--steps_per_call", "1"]


def test_divergence_never_saves_non_finite_weights(run_copy):
    _, run = run_copy
    # a trained run takes a few steps to blow up at this rate: some are saved
    result = run_cli("trainer.py", "--checkpoint", run,
                     "--max_training_steps", "60", *DIVERGE,
                     "--learning_rate_d", "1e30", "--learning_rate_g", "1e30")
    latest = tf.train.latest_checkpoint(run)
    assert_one_line_error(result, "training diverged",
                          f"the latest checkpoint is still {latest}")
    assert ckpt_lib.checkpoints(run)[-1][1] == latest
    reader = tf.train.load_checkpoint(latest)
    for name in reader.get_variable_to_shape_map():
        value = np.asarray(reader.get_tensor(name))
        if np.issubdtype(value.dtype, np.floating):
            assert np.all(np.isfinite(value)), name


def test_a_new_run_that_diverges_at_once_leaves_no_folder(tmp_path):
    write_tiny_dataset(tmp_path / "data")
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--train_dir",
                     str(tmp_path / "runs"), "--batch_size", "8",
                     "--n_z", "16", "--max_training_steps", "20", *DIVERGE)
    assert_one_line_error(result, "training diverged", "no checkpoint")
    assert os.listdir(tmp_path / "runs") == []


def start_long_run(tmp_path, run_name, **popen):
    """A trainer on a tiny dataset that runs until stopped, its output piped."""
    write_tiny_dataset(tmp_path / "data")
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, os.path.join(ROOT, "trainer.py"), "--dataset",
               "tiny", "--dataset_dir", str(tmp_path / "data"), "--train_dir",
               str(tmp_path / "runs"), "--run_name", run_name,
               "--max_training_steps", "100000", "--ckpt_save_step", "100000",
               "--steps_per_call", "5", *SMALL_RUN]
    return subprocess.Popen(command, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            **popen)


@pytest.mark.parametrize("signum, status", [
    (signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_ctrl_c_and_a_stop_signal_save_the_steps_since_the_last_checkpoint(
        tmp_path, signum, status):
    """Ctrl-C, and SIGTERM / SIGHUP as preemption, Kubernetes and Slurm send
    them: a checkpoint at the step reached, then exit 128 + the signal; the
    run resumes from it."""
    # Each signal at its default on the way in, as at a terminal (a suite
    # run under nohup would otherwise hand the trainer an ignored SIGHUP).
    trainer = start_long_run(tmp_path, "stopped", preexec_fn=lambda:
                             signal.signal(signum, signal.SIG_DFL))
    try:
        for line in trainer.stdout:
            if line.startswith("step 10/"):
                break
        trainer.send_signal(signum)
        out, err = trainer.communicate(timeout=120)
    finally:
        trainer.kill()
    assert trainer.returncode == status, err[-3000:]
    assert "Traceback" not in err
    run = tmp_path / "runs" / "stopped"
    latest = tf.train.latest_checkpoint(str(run))
    assert latest is not None and int(latest.rsplit("-", 1)[1]) >= 10
    assert "interrupted at step" in out
    assert not [name for name in os.listdir(run) if "_temp" in name]
    if signum != signal.SIGTERM:
        return
    step = int(latest.rsplit("-", 1)[1])
    resumed = run_cli("trainer.py", "--checkpoint", str(run),
                      "--max_training_steps", str(step + 5))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed from {latest} at step {step}" in resumed.stdout
    assert tf.train.latest_checkpoint(str(run)).endswith(f"-{step + 5}")


def test_nohup_keeps_sighup_ignored(tmp_path):
    """Under nohup (SIGHUP ignored when the trainer starts), a SIGHUP leaves
    the run training: only the SIGTERM after it stops it."""
    trainer = start_long_run(tmp_path, "nohup", preexec_fn=lambda:
                             signal.signal(signal.SIGHUP, signal.SIG_IGN))
    try:
        for line in trainer.stdout:
            if line.startswith("step 10/"):
                break
        trainer.send_signal(signal.SIGHUP)
        for line in trainer.stdout:
            if line.startswith("step 20/"):
                break
        trainer.send_signal(signal.SIGTERM)
        out, err = trainer.communicate(timeout=120)
    finally:
        trainer.kill()
    assert trainer.returncode == 128 + signal.SIGTERM, err[-3000:]
    assert "interrupted (SIGTERM)" in err


def test_stop_signals_wait_while_the_interrupt_saves():
    """A second Ctrl-C or a SIGTERM during the interrupt's save is ignored;
    the handlers come back after it."""
    from ssgan_tf.training import loop
    before = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]
    with loop.stop_signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.1)  # delivered (and ignored) here, not later
    assert [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] \
        == before


def test_each_run_records_its_networks_version(tiny_run):
    _, run_dir, _ = tiny_run
    info = ckpt_lib.read_run_info(run_dir)
    assert info["data"]["network_version"] == 1  # the original networks
    from ssgan_tf import models
    assert models.network_version("improved_gan", (32, 32, 3)) == 2
    assert models.network_version("improved_gan", (28, 28, 1)) == 1
    # before runs recorded it: the 32x32 re-padding came with
    # adam_epsilon_form in config.json
    old = {"config": {"model": "improved_gan"},
           "data": {"image_shape": [32, 32, 3]}}
    assert ckpt_lib.recorded_network_version(old) == 1
    old["config"]["adam_epsilon_form"] = "paper"
    assert ckpt_lib.recorded_network_version(old) == 2


def test_weights_of_other_networks_are_one_error_line(run_copy):
    """A 32x32 improved_gan run written before the networks were re-padded
    (config.json as such a run wrote it) is refused by evaler.py, not loaded
    into today's networks; nothing is written."""
    _, run = run_copy
    path = os.path.join(run, "config.json")
    with open(path) as f:
        info = json.load(f)
    info["config"].pop("adam_epsilon_form")
    info["config"]["model"] = "improved_gan"
    info["data"].pop("network_version")
    info["data"]["image_shape"] = [32, 32, 3]
    with open(path, "w") as f:
        json.dump(info, f)
    for extra in (["--sample", "4", "--sample_file", os.path.join(
            run, "s.png")], ["--export", os.path.join(run, "out")]):
        assert_one_line_error(run_cli("evaler.py", "--checkpoint", run,
                                      *extra),
                              "holds version 1 of the improved_gan networks",
                              "version 2")
    assert not os.path.exists(os.path.join(run, "out"))
    assert not os.path.exists(os.path.join(run, "s.png"))
