"""Few-label training: only the chosen labels reach the training step; each
preset runs on tiny generated data."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf import training
from ssgan_tf.config import Config
from ssgan_tf.data import format as data_format

from conftest import run_cli, write_tiny_dataset


def discriminator_weights(run_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(run_dir))
    keys = sorted(k for k in reader.get_variable_to_shape_map()
                  if k.startswith("discriminator/"))
    return [reader.get_tensor(k) for k in keys]


def test_only_the_labeled_subset_labels_are_seen(tmp_path):
    path, ids, images, labels = write_tiny_dataset(
        tmp_path / "data", count=48, shape=(8, 8, 1), num_class=4, splits=True)
    config = Config(dataset="tiny", dataset_dir=str(tmp_path / "data"),
                    train_dir=str(tmp_path / "runs"), batch_size=8, n_z=8,
                    num_labeled=8, max_training_steps=6, steps_per_call=3,
                    log_step=6, write_summary_step=6, test_sample_step=6,
                    output_save_step=6, ckpt_save_step=6, seed=5,
                    prefix="first")
    first = training.run(config, log=lambda *a: None)
    labeled_ids = open(os.path.join(first["run_dir"],
                                    "labeled_ids.txt")).read().split()
    assert len(labeled_ids) == 8
    train_ids = ids[:36]
    chosen = [train_ids.index(i) for i in labeled_ids]
    np.testing.assert_array_equal(np.bincount(labels[chosen], minlength=4),
                                  [2, 2, 2, 2])

    # Scramble every training label except the labeled subset's.
    scrambled = labels.copy()
    others = [i for i in range(36) if ids[i] not in labeled_ids]
    scrambled[others] = (scrambled[others] + 1 + np.arange(len(others))) % 4
    assert (scrambled[others] != labels[others]).any()
    data_format.write_dataset(path, ids, images, scrambled, num_class=4,
                              splits={"train": ids[:36], "test": ids[36:]})
    # The class-balanced draw looks at every label, so the second run is told
    # the first run's subset; the training step itself must see no other label.
    second = training.run(config.replace(
        prefix="second", labeled_ids=os.path.join(first["run_dir"],
                                                  "labeled_ids.txt")),
        log=lambda *a: None)
    assert open(os.path.join(second["run_dir"],
                             "labeled_ids.txt")).read().split() == labeled_ids
    for a, b in zip(discriminator_weights(first["run_dir"]),
                    discriminator_weights(second["run_dir"])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# mnist_100 without the paper's remaining details (Config fields, not flags)
EARLIER_MNIST = dict(d_init="unit", g_bn_scale=True, fm_reduction="sum",
                     adam_epsilon=1e-7, fm_separate_batch=False)


@pytest.mark.parametrize("preset, shape, details", [
    ("mnist_100", (28, 28, 1), {}),
    ("mnist_100", (28, 28, 1), EARLIER_MNIST),
    ("svhn_1000", (32, 32, 3), {}),
    ("cifar10_4000", (32, 32, 3), {})])
def test_each_preset_runs(tmp_path, preset, shape, details):
    write_tiny_dataset(tmp_path / "data", count=60, shape=shape, num_class=10,
                       splits=True)
    lines = []
    config = Config.from_preset(
        preset, dataset="tiny", dataset_dir=str(tmp_path / "data"),
        train_dir=str(tmp_path / "runs"), num_labeled=20, batch_size=10,
        max_training_steps=4, steps_per_call=2, log_step=2, ckpt_save_step=4,
        test_sample_step=4, output_save_step=4, write_summary_step=4,
        **details)
    run_dir = training.run(config, log=lines.append)["run_dir"]
    assert any("(20 labeled, 0 unlabeled-only)" in line for line in lines)
    saved = json.load(open(os.path.join(run_dir, "config.json")))["config"]
    assert saved["model"] == "improved_gan" and saved["g_loss"] == \
        "feature_matching" and saved["num_labeled"] == 20
    assert saved["preset"] == preset
    reader = tf.train.load_checkpoint(os.path.join(run_dir, "model-4"))
    keys = reader.get_variable_to_shape_map()
    assert any(k.startswith("ema_discriminator/") for k in keys)
    if preset == "mnist_100":
        # G's trainable variables (saved through its optimizer): two dense
        # kernels, each norm's beta (and gamma with a scale), the output
        # layer's v, g and b.
        g_variables = [k for k in keys if k.startswith(
            "g_optimizer/_trainable_variables/") and k.endswith("VALUE")]
        assert len(g_variables) == (9 if details else 7)
        # the data-dependent initialization moved the hidden scales from 1
        scales = [reader.get_tensor(k) for k in keys if k.startswith(
            "discriminator/hidden_0/g/")]
        assert len(scales) == 1
        assert np.allclose(scales[0], 1.0) == bool(details)
        assert saved["d_init"] == ("unit" if details else "data")


def test_sgan_and_supervised_baseline_run(tmp_path):
    write_tiny_dataset(tmp_path / "data", count=40, shape=(12, 12, 1),
                       num_class=4)
    for extra in (["--model", "sgan"], ["--d_loss", "supervised"]):
        result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                         str(tmp_path / "data"), "--train_dir",
                         str(tmp_path / "runs"), "--batch_size", "8",
                         "--num_labeled", "8", "--max_training_steps", "4",
                         "--steps_per_call", "2", *extra)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "test accuracy" in result.stdout
