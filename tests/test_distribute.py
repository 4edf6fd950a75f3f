"""tf.distribute for real on CPU: MirroredStrategy over two logical CPUs against
one device, and two worker processes against one process."""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf import distribute
from ssgan_tf.errors import UserError

from conftest import ROOT, assert_one_line_error, run_cli, write_tiny_dataset

SCRIPT = os.path.join(ROOT, "tests", "distributed_script.py")
ENV = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
# The comparisons run in float64 (distributed_script.py sets Keras' floatx):
# sums taken in another order differ by ~1e-16 there, relative to each
# tensor's size (1 + its largest value), on any CPU; a replica's wrong draw, share or statistics
# differs by 1e-3 and more. The limit sits far from both.
TOLERANCE = 1e-9


# Every model and network, with everything random or batch-dependent active:
# the MNIST MLP's noise and data-dependent initialization, the 32x32
# discriminator's dropout, batch norm (synchronized, the default), feature
# matching (on the global batch's means), two G updates a step, clipping of
# the global gradient. XLA is off: it cannot compile a step whose variables
# live on two logical devices of one CPU (the trainer says so and runs
# without it). Adam's default epsilon 1e-7 lets a near-zero gradient's
# rounding decide a whole step's sign: the original networks run at epsilon
# 1e-3 (the presets have their own, 1e-4).
STEPS = dict(max_training_steps=4, steps_per_call=2, log_step=2,
             write_summary_step=2, ckpt_save_step=2, test_sample_step=4,
             output_save_step=4)
ORIGINAL = dict(adam_epsilon=1e-3, **STEPS)
TINY_PRESET = dict(num_labeled=8, ema_decay=0.9, **STEPS)
VARIANTS = {
    # --clip_norm 3 clips the generator's second update: the clip applies to
    # the global gradient (Keras's global_clipnorm, each replica's share,
    # gave a 7.6e-3 difference here)
    "original_no_batch_norm_clipped": dict(norm_type="none", clip_norm=3,
                                           **ORIGINAL),
    "original": dict(norm_type="batch", **ORIGINAL),
    "original_unsynced": dict(norm_type="batch", sync_batch_norm=False,
                              **ORIGINAL),
    "feature_matching_two_g_updates": dict(
        norm_type="none", g_loss="feature_matching", update_rate=2,
        **ORIGINAL),
    "sgan": dict(model="sgan", **ORIGINAL),
    "mnist_100": dict(preset="mnist_100", dataset="tiny28", jit_compile=False,
                      **TINY_PRESET),
    # (cifar10_4000: the same network, wider)
    "svhn_1000": dict(preset="svhn_1000", dataset="tiny32", **TINY_PRESET),
}


# Two halves, each its own process, so that two test workers share them.
HALVES = {"original networks": ["original_no_batch_norm_clipped", "original",
                                "original_unsynced",
                                "feature_matching_two_g_updates"],
          "sgan and presets": ["sgan", "mnist_100", "svhn_1000"]}


@pytest.mark.parametrize("half", sorted(HALVES))
def test_two_replicas_match_one_device_for_every_model(tmp_path, half):
    data = tmp_path / "data"
    write_tiny_dataset(data, count=48, shape=(8, 8, 1))
    write_tiny_dataset(data, name="tiny28", count=48, shape=(28, 28, 1))
    write_tiny_dataset(data, name="tiny32", count=48, shape=(32, 32, 3))
    out = tmp_path / "result.json"
    variants = {name: VARIANTS[name] for name in HALVES[half]}
    result = subprocess.run(
        [sys.executable, SCRIPT, "compare", str(out), str(data),
         str(tmp_path / "runs"), json.dumps(variants)], capture_output=True,
        text=True, timeout=900, env=ENV, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert sorted(results) == sorted(variants)
    for name, found in results.items():
        assert found["replicas"] == 2 and found["per_replica_batch"] == 4
        assert found["dtypes"] == ["float64"], (name, found)
        if name == "original_unsynced":
            continue
        assert found["max_rel_diff"] < TOLERANCE, (name, found)
        assert found["loss_max_rel_diff"] < TOLERANCE, (name, found)
        assert found["moving_stats_max_rel_diff"] < TOLERANCE, (name, found)
        assert found["noise_keys"] == [], (name, found)
    # What the comparison covers: the weight averages, the batch norms'
    # moving statistics, each G update (2 a step: 8 in 4 steps).
    if half == "sgan and presets":
        assert results["mnist_100"]["ema_keys"] > 0
        assert results["svhn_1000"]["moving_keys"] > 0
        assert results["sgan"]["moving_keys"] > 0
        return
    assert results["feature_matching_two_g_updates"]["g_updates"] == [8, 8]
    # Without synchronization each replica normalizes its own 4 examples:
    # the gap the synchronized runs close (so the checks above can fail).
    unsynced = results["original_unsynced"]
    assert unsynced["max_rel_diff"] > 1e-4
    assert unsynced["moving_stats_max_rel_diff"] > 1e-4


def test_the_halves_cover_every_variant():
    assert sorted(sum(HALVES.values(), [])) == sorted(VARIANTS)


def free_ports(count):
    """`count` distinct free ports (bound at once, so never the same twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_two_workers_match_one_process(tmp_path):
    write_tiny_dataset(tmp_path / "data", count=48, shape=(8, 8, 1))
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    common = [str(tmp_path / "data"), str(tmp_path / "runs")]
    workers = []
    try:
        for index in range(2):
            env = dict(ENV, TF_CONFIG=json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}))
            workers.append(subprocess.Popen(
                [sys.executable, SCRIPT, "worker", *common, "together",
                 "--norm_type", "none"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=env))
        deadline = time.time() + 300
        outputs = []
        for process in workers:
            out, err = process.communicate(timeout=max(1, deadline - time.time()))
            assert process.returncode == 0, err[-3000:]
            outputs.append(out)
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    single = subprocess.run(
        [sys.executable, SCRIPT, "single", *common, "alone", "--norm_type",
         "none"], capture_output=True, text=True, timeout=300, env=ENV,
        check=False)
    assert single.returncode == 0, single.stderr[-3000:]
    runs = tmp_path / "runs"
    # Only the chief (worker 0) wrote checkpoints and summaries.
    together = sorted(os.listdir(runs / "together"))
    assert "model-6.index" in together and "config.json" in together
    assert len([n for n in together if n.startswith("events.out")]) == 1
    reader = tf.train.load_checkpoint(str(runs / "together" / "model-6"))
    alone = tf.train.load_checkpoint(str(runs / "alone" / "model-6"))
    keys = [k for k in alone.get_variable_to_shape_map()
            if "_trainable_variables" in k]
    assert keys
    for key in keys:
        ours, theirs = reader.get_tensor(key), alone.get_tensor(key)
        assert ours.dtype == np.float64, key
        size = max(np.max(np.abs(ours)), np.max(np.abs(theirs)))
        assert np.max(np.abs(ours - theirs)) <= TOLERANCE * (1 + size), key


def test_indivisible_batch_is_one_error(tmp_path):
    class TwoReplicas:
        num_replicas_in_sync = 2
    with pytest.raises(UserError) as info:
        distribute.per_replica_batch(7, TwoReplicas())
    assert "--batch_size 7" in str(info.value)


def test_multi_worker_needs_a_run_name(tmp_path):
    write_tiny_dataset(tmp_path / "data")
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--strategy", "multi_worker")
    assert_one_line_error(result, "--run_name")


@pytest.mark.parametrize("shape, extra", [
    ((8, 8, 1), {}),
    ((28, 28, 1), {"model": "improved_gan", "d_loss": "improved_gan",
                   "g_loss": "feature_matching", "num_labeled": 20})])
def test_mixed_precision_step_keeps_float32_variables(tmp_path, shape, extra):
    from ssgan_tf import training
    from ssgan_tf.config import Config
    write_tiny_dataset(tmp_path / "data", count=40, shape=shape, num_class=4)
    run = training.run(Config(dataset="tiny", dataset_dir=str(tmp_path / "data"),
                           train_dir=str(tmp_path / "runs"), batch_size=8,
                           n_z=8, max_training_steps=4, steps_per_call=2,
                           mixed_precision=True, **extra), log=lambda *a: None)
    assert np.isfinite(run["test_accuracy"])
    assert tf.keras.mixed_precision.global_policy().name == "float32"
    reader = tf.train.load_checkpoint(run["checkpoint"])
    dtypes = reader.get_variable_to_dtype_map()
    kernels = [k for k in dtypes if "_trainable_variables" in k]
    assert kernels and all(dtypes[k] == tf.float32 for k in kernels)
