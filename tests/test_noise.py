"""The discriminators' draws: noise and dropout from a table of samples, as a
function of (seed, step, stream, layer, example)."""

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf.models import improved_gan
from ssgan_tf.models.noise import Draws, NoiseTable, Segment


def whole(seed=1, step=0, batch=4, stream=0):
    return Draws.whole(seed, step, batch, stream)


def test_table_noise_has_the_asked_deviation_and_no_bias():
    noise = NoiseTable()
    x = tf.fill([300, 1000], 2.0)
    added = (noise.gaussian(x, 0.5, whole(batch=300), 0) - x).numpy()
    assert added.shape == (300, 1000)
    assert abs(added.mean()) < 0.01
    assert added.std() == pytest.approx(0.5, rel=0.02)
    # Gaussian, not merely of the right variance: 4.55% beyond 2 sigma.
    assert np.mean(np.abs(added) > 1.0) == pytest.approx(0.0455, abs=0.003)


def test_each_draw_is_a_slice_of_the_table_that_seed_step_stream_and_layer_move():
    noise = NoiseTable(size=1 << 16)
    x = tf.zeros([8, 100])
    base = noise.samples(x, whole(batch=8), 0).numpy()
    table = noise.table.numpy()
    flat = base.ravel()
    start = int(np.flatnonzero(table == flat[0])[0])
    np.testing.assert_array_equal(table[start:start + flat.size], flat)
    # the same key, the same draw; any part of the key changed, another
    np.testing.assert_array_equal(
        base, noise.samples(x, whole(batch=8), 0).numpy())
    for other in (noise.samples(x, whole(seed=2, batch=8), 0),
                  noise.samples(x, whole(step=1, batch=8), 0),
                  noise.samples(x, whole(batch=8, stream=1), 0),
                  noise.samples(x, whole(batch=8), 1)):
        assert not np.array_equal(base, other.numpy())


def test_an_examples_draw_depends_on_its_global_row_not_on_who_computes_it():
    """Replica r of k holds rows [r*b, (r+1)*b) of the global batch: its draws
    are those rows of one device's draws; a batch of several streams
    concatenated gets each stream's own rows."""
    noise = NoiseTable(size=1 << 16)
    one_device = noise.samples(tf.zeros([8, 50]), whole(batch=8), 3).numpy()
    for replica in range(2):
        draws = Draws(1, 0, 8, [Segment(0, replica * 4, 4)])
        np.testing.assert_array_equal(
            noise.samples(tf.zeros([4, 50]), draws, 3).numpy(),
            one_device[replica * 4:replica * 4 + 4])
    other_stream = noise.samples(tf.zeros([8, 50]), whole(batch=8, stream=2),
                                 3).numpy()
    joined = Draws(1, 0, 8, [Segment(0, 4, 4), Segment(2, 4, 4)])
    np.testing.assert_array_equal(
        noise.samples(tf.zeros([8, 50]), joined, 3).numpy(),
        np.concatenate([one_device[4:], other_stream[4:]]))


def test_a_batch_larger_than_the_table_takes_a_slice_per_example():
    noise = NoiseTable(size=4000)  # < 10 examples x 500
    one_device = noise.samples(tf.zeros([10, 500]), whole(batch=10),
                               0).numpy()
    table = noise.table.numpy()
    starts = set()
    for row in one_device:  # each row a slice of its own
        start = int(np.flatnonzero(table == row[0])[0])
        np.testing.assert_array_equal(table[start:start + 500], row)
        starts.add(start)
    assert len(starts) == 10
    half = Draws(1, 0, 10, [Segment(0, 6, 4)])
    np.testing.assert_array_equal(
        noise.samples(tf.zeros([4, 500]), half, 0).numpy(), one_device[6:])


def test_seeds_reach_the_draws_under_xla():
    noise = NoiseTable(size=1 << 16)
    x = tf.zeros([4, 30])

    @tf.function(jit_compile=True)
    def compiled(seed):
        return noise.samples(x, Draws.whole(seed, 7, 4), 0)

    first, again = compiled(tf.constant(1)), compiled(tf.constant(1))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(first.numpy(), compiled(tf.constant(2)).numpy())
    # and XLA draws what the plain graph draws
    np.testing.assert_array_equal(
        first.numpy(), noise.samples(x, Draws.whole(1, 7, 4), 0).numpy())


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropout_drops_at_its_rate_and_keeps_the_mean(rate):
    noise = NoiseTable()
    x = tf.ones([200, 1000])
    dropped = noise.dropout(x, rate, whole(batch=200), 0).numpy()
    assert np.mean(dropped == 0.0) == pytest.approx(rate, abs=0.005)
    kept = dropped[dropped != 0.0]
    np.testing.assert_allclose(kept, 1.0 / (1.0 - rate), rtol=1e-6)
    assert dropped.mean() == pytest.approx(1.0, abs=0.01)


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


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_training_draws_follow_the_key_and_evaluation_has_none(shape):
    _, d = improved_gan.build(shape, 10, 8)
    images = tf.random.stateless_uniform([4] + list(shape), [0, 1], -1, 1)
    clean = d(images, training=False).numpy()
    np.testing.assert_array_equal(clean, d(images, training=False).numpy())

    def noisy(step):
        return d.features_and_logits(images, training=True,
                                     draws=whole(step=step))[1].numpy()
    assert np.abs(noisy(0) - clean).max() > 0.01
    np.testing.assert_array_equal(noisy(0), noisy(0))
    assert not np.array_equal(noisy(0), noisy(1))
