"""The MNIST discriminator's Gaussian noise, from a table of samples."""

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf.models import improved_gan
from ssgan_tf.models.noise import GaussianNoise


def test_table_noise_has_the_asked_deviation_and_no_bias():
    tf.random.set_seed(0)
    noise = GaussianNoise()
    x = tf.fill([300, 1000], 2.0)
    added = (noise(x, 0.5) - x).numpy()
    assert added.shape == (300, 1000)
    assert abs(added.mean()) < 0.01
    assert added.std() == pytest.approx(0.5, rel=0.02)
    # Gaussian, not merely of the right variance: 4.55% beyond 2 sigma.
    assert np.mean(np.abs(added) > 1.0) == pytest.approx(0.0455, abs=0.003)


def test_each_use_takes_other_samples_from_the_table():
    tf.random.set_seed(0)
    noise = GaussianNoise(size=1 << 16)
    x = tf.zeros([8, 100])
    first, second = noise(x, 1.0).numpy(), noise(x, 1.0).numpy()
    assert not np.allclose(first, second)
    table = noise.table.numpy()
    # Each use is one contiguous slice of the table, scaled by stddev.
    for sample in (first, second):
        flat = sample.ravel()
        start = int(np.flatnonzero(table == flat[0])[0])
        np.testing.assert_array_equal(table[start:start + flat.size], flat)
    assert np.allclose(noise(x, 0.3).numpy().std(), 0.3, rtol=0.15)


def test_a_tensor_larger_than_the_table_gets_fresh_samples():
    tf.random.set_seed(0)
    noise = GaussianNoise(size=100)
    added = noise(tf.zeros([20, 50]), 1.0).numpy()  # 1,000 > 100 elements
    assert len(np.unique(added)) == added.size
    assert not np.isin(added, noise.table.numpy()).any()


def test_the_table_is_not_a_weight_of_the_discriminator(tmp_path):
    shape = (28, 28, 1)
    with_table = improved_gan.MlpDiscriminator(shape, 10)
    other = improved_gan.MlpDiscriminator(shape, 10)
    images = tf.zeros([2] + list(shape))
    with_table(images)
    other(images)
    assert not any("noise" in w.path for w in with_table.weights)
    prefix = tf.train.Checkpoint(d=with_table).write(str(tmp_path / "d"))
    names = [name for name, _ in tf.train.list_variables(prefix)]
    assert not any("noise" in name for name in names)
    tf.train.Checkpoint(d=other).read(prefix).assert_consumed()


def test_training_noise_comes_from_the_table_and_evaluation_has_none():
    tf.random.set_seed(0)
    d = improved_gan.MlpDiscriminator((28, 28, 1), 10)
    images = tf.random.uniform([4, 28, 28, 1], -1, 1)
    clean = d(images, training=False).numpy()
    np.testing.assert_array_equal(clean, d(images, training=False).numpy())
    noisy = d(images, training=True).numpy()
    assert np.abs(noisy - clean).max() > 0.01
