"""The training step: one joint discriminator pass where the network allows it,
and the metrics it reports."""

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf import models, objectives
from ssgan_tf.config import Config
from ssgan_tf.training import optimizer as optimizer_lib, step as step_lib

keras = tf.keras
STEP = tf.constant(0, tf.int64)
COUNTS = (STEP, STEP)  # the step, G's update count


class RecordingDiscriminator(keras.Model):
    """A deterministic dense discriminator that records its batch sizes."""

    def __init__(self, batch_independent):
        super().__init__()
        self.batch_independent = batch_independent
        self.hidden = keras.layers.Dense(4, activation="relu")
        self.out = keras.layers.Dense(3)
        self.seen = []

    def features_and_logits(self, images, training=False, draws=None):
        self.seen.append(int(images.shape[0]))
        features = self.hidden(tf.reshape(images, [tf.shape(images)[0], -1]))
        return features, self.out(features)

    def call(self, images, training=False):
        return self.features_and_logits(images, training)[1]


def train_step(config, generator, discriminator, g_opt, d_opt, num_class,
               semi_supervised=True):
    """The TrainStep of `config` on one device, its objective built from it."""
    return step_lib.TrainStep(
        config, tf.distribute.get_strategy(), generator, discriminator, g_opt,
        d_opt, objectives.build(config, num_class, 1), num_class,
        semi_supervised)


def make_step(discriminator, config=None, num_class=2):
    return train_step(config or Config(batch_size=4), None, discriminator,
                      None, None, num_class)


@pytest.mark.parametrize("independent", [True, False])
def test_discriminate_joins_batches_only_for_batch_independent_networks(
        independent):
    discriminator = RecordingDiscriminator(independent)
    batches = [tf.random.normal([n, 2, 2, 1], seed=n) for n in (4, 3, 5)]
    joint = make_step(discriminator)._discriminate(batches, [0, 1, 2], STEP)
    assert discriminator.seen == ([12] if independent else [4, 3, 5])
    for batch, (features, logits) in zip(batches, joint):
        alone_features, alone_logits = discriminator.features_and_logits(batch)
        np.testing.assert_allclose(features.numpy(), alone_features.numpy(),
                                   rtol=1e-6, atol=1e-6)
        # N + 1 = 3 logits already: no fake logit is appended.
        np.testing.assert_allclose(logits.numpy(), alone_logits.numpy(),
                                   rtol=1e-6, atol=1e-6)


def test_discriminate_appends_the_fixed_fake_logit():
    image = [tf.ones([2, 2, 2, 1])]
    (_, logits), = make_step(RecordingDiscriminator(True),
                             num_class=2)._discriminate(image, [0], STEP)
    assert logits.shape == (2, 3)  # N + 1 already: the original networks
    (_, logits), = make_step(RecordingDiscriminator(True),
                             num_class=3)._discriminate(image, [0], STEP)
    assert logits.shape == (2, 4) and np.all(logits.numpy()[:, 3] == 0.0)


def test_improved_gan_discriminators_are_batch_independent_original_is_not():
    _, mlp = models.build("improved_gan", (28, 28, 1), 10, 8)
    _, conv = models.build("improved_gan", (32, 32, 3), 10, 8)
    _, original = models.build("original", (28, 28, 1), 10, 8)
    _, sgan = models.build("sgan", (28, 28, 1), 10, 8)
    assert mlp.batch_independent and conv.batch_independent
    assert not getattr(original, "batch_independent", False)
    assert not getattr(sgan, "batch_independent", False)


def mnist_batch():
    """A semi-supervised batch of 6 random MNIST-shaped images, 8 noise
    values, 2 passes."""
    rng = np.random.RandomState(0)
    return {"image": tf.constant(rng.uniform(-1, 1, (6, 28, 28, 1)),
                                 tf.float32),
            "label": tf.constant(rng.randint(0, 10, 6), tf.int32),
            "unlabeled": tf.constant(rng.uniform(-1, 1, (6, 28, 28, 1)),
                                     tf.float32),
            "noise": tf.constant(rng.uniform(-1, 1, (6, 2, 8)), tf.float32)}


def test_step_reports_the_generator_loss():
    config = Config(batch_size=6, model="improved_gan", d_loss="improved_gan",
                    g_loss="feature_matching", n_z=8)
    generator, discriminator = models.build("improved_gan", (28, 28, 1), 10, 8)
    generator(tf.zeros([2, 8]))
    discriminator(tf.zeros([2, 28, 28, 1]))
    g_opt = optimizer_lib.build_optimizer(config, 1e-3)
    d_opt = optimizer_lib.build_optimizer(config, 1e-3)
    trainer = train_step(config, generator, discriminator, g_opt, d_opt, 10)
    batch = mnist_batch()
    g_before = [v.numpy() for v in generator.trainable_variables]
    metrics = trainer.replica_step(batch, *COUNTS)
    # The feature-matching loss of random images against the generator's is
    # a positive distance.
    assert float(metrics["g_loss"]) > 0.0
    assert float(metrics["d_loss"]) > 0.0
    assert any(not np.allclose(before, after.numpy()) for before, after in
               zip(g_before, generator.trainable_variables))


def test_clip_scales_the_gradient_to_the_clip_norm():
    trainer = make_step(RecordingDiscriminator(True), Config(clip_norm=1.0))
    optimizer = tf.keras.optimizers.Adam()
    clipped = trainer._clip(optimizer, [tf.constant([3.0]), tf.constant([4.0])])
    # global norm 5 -> 1: each component divided by 5
    np.testing.assert_allclose([g.numpy() for g in clipped], [[0.6], [0.8]],
                               rtol=1e-6)
    small = trainer._clip(optimizer, [tf.constant([0.3]), tf.constant([0.4])])
    np.testing.assert_allclose([g.numpy() for g in small], [[0.3], [0.4]])


def test_clip_allows_for_the_loss_scale():
    trainer = make_step(RecordingDiscriminator(True), Config(clip_norm=1.0))
    optimizer = tf.keras.optimizers.LossScaleOptimizer(
        tf.keras.optimizers.Adam(), initial_scale=8.0)
    optimizer.build([tf.Variable([0.0])])
    # scaled gradients (24, 32) are (3, 4) unscaled, norm 5: clipped to
    # (0.6, 0.8) unscaled, which is (4.8, 6.4) still scaled by 8.
    clipped = trainer._clip(optimizer, [tf.constant([24.0]),
                                        tf.constant([32.0])])
    np.testing.assert_allclose([g.numpy() for g in clipped], [[4.8], [6.4]],
                               rtol=1e-6)


def test_clip_passes_missing_gradients_through():
    trainer = make_step(RecordingDiscriminator(True), Config(clip_norm=1.0))
    clipped = trainer._clip(tf.keras.optimizers.Adam(),
                            [tf.constant([3.0]), None, tf.constant([4.0])])
    assert clipped[1] is None
    np.testing.assert_allclose(clipped[0].numpy(), [0.6], rtol=1e-6)
    np.testing.assert_allclose(clipped[2].numpy(), [0.8], rtol=1e-6)


class TinyGenerator(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(4, activation="tanh")

    def call(self, z, training=False):
        # float32 images whatever the compute type, as the real generators
        return tf.reshape(tf.cast(self.dense(z), tf.float32), [-1, 2, 2, 1])


def feature_matching_step(**overrides):
    """A tiny built G and batch-independent D, and the semi-supervised
    feature-matching step over them (2 classes, batch 4, 3 noise values;
    `overrides` go to the Config)."""
    config = Config(batch_size=4, d_loss="improved_gan",
                    g_loss="feature_matching", n_z=3, **overrides)
    generator, discriminator = TinyGenerator(), RecordingDiscriminator(True)
    generator(tf.zeros([1, 3]))
    discriminator(tf.zeros([1, 2, 2, 1]))
    trainer = train_step(config, generator, discriminator,
                         tf.keras.optimizers.Adam(1e-2),
                         tf.keras.optimizers.Adam(1e-2), 2)
    return generator, discriminator, trainer


def two_unlabeled_batches(seed, noise_passes):
    """A batch of 4 whose `unlabeled_g` images differ from its `unlabeled`
    ones (shifted by 1)."""
    rng = np.random.RandomState(seed)

    def images(offset):
        return tf.constant(rng.uniform(-1, 1, (4, 2, 2, 1)) + offset,
                           tf.float32)
    return {"image": images(0.0), "label": tf.constant([0, 1, 0, 1]),
            "unlabeled": images(0.0), "unlabeled_g": images(1.0),
            "noise": tf.constant(rng.uniform(-1, 1, (4, noise_passes, 3)),
                                 tf.float32)}


def feature_distance(discriminator, real, fake):
    """The feature-matching loss computed by hand: the squared distance
    between the mean features of `real` and of `fake`."""
    real_features = discriminator.features_and_logits(real)[0]
    fake_features = discriminator.features_and_logits(fake)[0]
    means = tf.reduce_mean(real_features, 0) - tf.reduce_mean(fake_features, 0)
    return float(tf.reduce_sum(means ** 2))


def test_feature_matching_update_passes_the_unlabeled_batch_off_the_tape():
    """The generator update sees the generated batch on the tape and the
    unlabeled one as a separate pass beside it (its features are a constant of
    that update), while the D update still joins its three batches."""
    generator, discriminator, trainer = feature_matching_step()
    rng = np.random.RandomState(0)
    batch = {"image": tf.constant(rng.uniform(-1, 1, (4, 2, 2, 1)), tf.float32),
             "label": tf.constant([0, 1, 0, 1], tf.int32),
             "unlabeled": tf.constant(rng.uniform(-1, 1, (4, 2, 2, 1)),
                                      tf.float32),
             "noise": tf.constant(rng.uniform(-1, 1, (4, 2, 3)), tf.float32)}
    discriminator.seen.clear()
    before = [v.numpy() for v in generator.trainable_variables]
    metrics = trainer.replica_step(batch, *COUNTS)
    assert discriminator.seen == [12, 4, 4]
    assert float(metrics["g_loss"]) > 0.0
    assert any(not np.allclose(b, a.numpy()) for b, a in
               zip(before, generator.trainable_variables))


def test_feature_matching_uses_the_generators_own_unlabeled_batch():
    """With `unlabeled_g` in the batch (--fm_separate_batch), the G update
    matches the generated features to that batch's, not to the D step's
    unlabeled batch: the reported loss is the distance computed by hand from
    the updated discriminator and the generator as it was."""
    generator, discriminator, trainer = feature_matching_step()
    batch = two_unlabeled_batches(3, noise_passes=2)
    fake = generator(batch["noise"][:, 1], training=True)
    reported = float(trainer.replica_step(batch, *COUNTS)["g_loss"]) / 4
    # D as it is after its update
    assert reported == pytest.approx(feature_distance(
        discriminator, batch["unlabeled_g"], fake), rel=1e-5)
    assert reported != pytest.approx(feature_distance(
        discriminator, batch["unlabeled"], fake), rel=1e-2)


@pytest.mark.parametrize("update_rate", [1, 2])
def test_each_step_makes_update_rate_generator_updates_on_their_own_noise(
        update_rate):
    """One D update, then --update_rate G updates, each on its own noise slot
    (1 + update_rate slots); the supervised baseline has no generator pass."""
    config = Config(batch_size=4, d_loss="improved_gan",
                    g_loss="feature_matching", n_z=3, update_rate=update_rate)
    objective = objectives.build(config, 2, 1)
    assert step_lib.noise_passes(objective, update_rate) == 1 + update_rate
    supervised = objectives.build(config.replace(d_loss="supervised"), 2, 1)
    assert step_lib.noise_passes(supervised, update_rate) == 0
    generator, discriminator = TinyGenerator(), RecordingDiscriminator(True)
    generator(tf.zeros([1, 3]))
    discriminator(tf.zeros([1, 2, 2, 1]))
    g_opt, d_opt = tf.keras.optimizers.Adam(1e-2), \
        tf.keras.optimizers.Adam(1e-2)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    trainer = train_step(config, generator, discriminator, g_opt, d_opt, 2)
    rng = np.random.RandomState(1)
    batch = {"image": tf.constant(rng.uniform(-1, 1, (4, 2, 2, 1)), tf.float32),
             "label": tf.constant([0, 1, 0, 1], tf.int32),
             "unlabeled": tf.constant(rng.uniform(-1, 1, (4, 2, 2, 1)),
                                      tf.float32),
             "noise": tf.constant(rng.uniform(-1, 1, (4, 1 + update_rate, 3)),
                                  tf.float32)}
    iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())
    metrics = trainer.run(iterator, tf.constant(1))
    assert float(metrics["g_loss"]) > 0.0
    assert int(d_opt.iterations.numpy()) == 1
    assert int(g_opt.iterations.numpy()) == update_rate


def tiny_batch(seed=0, passes=2, nan_label_image=False):
    rng = np.random.RandomState(seed)
    images = rng.uniform(-1, 1, (4, 2, 2, 1)).astype(np.float32)
    if nan_label_image:
        images[0, 0, 0, 0] = np.nan
    return {"image": tf.constant(images),
            "label": tf.constant([0, 1, 0, 1], tf.int32),
            "unlabeled": tf.constant(rng.uniform(-1, 1, (4, 2, 2, 1)),
                                     tf.float32),
            "noise": tf.constant(rng.uniform(-1, 1, (4, passes, 3)),
                                 tf.float32)}


class RefusingGenerator(keras.Model):
    def call(self, z, training=False):
        raise AssertionError("the generator ran")


def test_the_supervised_baseline_runs_neither_generator_nor_fake_batch():
    config = Config(batch_size=4, d_loss="supervised", n_z=3)
    discriminator = RecordingDiscriminator(False)  # batch norm-like
    discriminator(tf.zeros([1, 2, 2, 1]))
    d_opt = tf.keras.optimizers.Adam(1e-2)
    d_opt.build(discriminator.trainable_variables)
    trainer = train_step(config, RefusingGenerator(), discriminator, None,
                         d_opt, 2)
    batch = tiny_batch()
    del batch["noise"]  # the pipeline draws none: noise_passes is 0
    discriminator.seen.clear()
    metrics = trainer.replica_step(batch, *COUNTS)
    assert discriminator.seen == [4]  # the labeled batch alone
    assert float(metrics["d_loss_fake"]) == 0.0
    assert int(d_opt.iterations.numpy()) == 1


def test_a_skipped_mixed_precision_update_still_counts_as_a_step():
    """A non-finite gradient makes the LossScaleOptimizer skip the update
    (and halve its scale); the step, which names the checkpoint and drives
    every schedule, advances all the same."""
    config = Config(batch_size=4, d_loss="improved_gan",
                    g_loss="feature_matching", n_z=3, mixed_precision=True)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        generator, discriminator = TinyGenerator(), \
            RecordingDiscriminator(True)
        generator(tf.zeros([1, 3]))
        discriminator(tf.zeros([1, 2, 2, 1]))
        g_opt = optimizer_lib.build_optimizer(config, 1e-2)
        d_opt = optimizer_lib.build_optimizer(config, 1e-2)
        g_opt.build(generator.trainable_variables)
        d_opt.build(discriminator.trainable_variables)
        assert isinstance(d_opt, keras.optimizers.LossScaleOptimizer)
        trainer = train_step(config, generator, discriminator, g_opt, d_opt,
                             2)
        before = [v.numpy() for v in discriminator.trainable_variables]
        scale = float(d_opt.dynamic_scale.numpy())
        iterator = iter(tf.data.Dataset.from_tensors(
            tiny_batch(nan_label_image=True)).repeat())
        trainer.run(iterator, tf.constant(1))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    # D's update was skipped (weights as they were, the scale halved)...
    for old, new in zip(before, discriminator.trainable_variables):
        np.testing.assert_array_equal(old, new.numpy())
    assert float(d_opt.dynamic_scale.numpy()) == scale / 2
    # ...and the step counted, as G's update did
    assert int(d_opt.iterations.numpy()) == 1
    assert int(g_opt.iterations.numpy()) == 1


def built_mlp_step(config):
    """The MNIST networks, built from seed 0, and their step."""
    keras.utils.set_random_seed(0)
    generator, discriminator = models.build("improved_gan", (28, 28, 1), 10,
                                            config.n_z)
    generator(tf.zeros([2, config.n_z]))
    discriminator(tf.zeros([2, 28, 28, 1]))
    g_opt = optimizer_lib.build_optimizer(config, 1e-3)
    d_opt = optimizer_lib.build_optimizer(config, 1e-3)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    return discriminator, train_step(config, generator, discriminator, g_opt,
                                     d_opt, 10)


def test_the_xla_step_computes_the_plain_step():
    config = Config(batch_size=6, model="improved_gan", d_loss="improved_gan",
                    g_loss="feature_matching", n_z=8)
    batch = mnist_batch()
    weights, metrics = {}, {}
    for jit in (False, True):
        discriminator, trainer = built_mlp_step(config.replace(
            jit_compile=jit))
        assert trainer.jit_compiled == jit
        iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())
        metrics[jit] = trainer.run(iterator, tf.constant(3))
        weights[jit] = [v.numpy() for v in discriminator.trainable_variables]
    for plain, compiled in zip(weights[False], weights[True]):
        np.testing.assert_allclose(compiled, plain, rtol=1e-3, atol=1e-5)
    for name in ("d_loss", "g_loss"):
        np.testing.assert_allclose(float(metrics[True][name]),
                                   float(metrics[False][name]), rtol=1e-3)


def test_xla_compiles_the_step_of_one_replica_only():
    class TwoReplicas:
        num_replicas_in_sync = 2
    config = Config(batch_size=4, jit_compile=True)
    trainer = step_lib.TrainStep(config, TwoReplicas(), None, None, None,
                                 None, objectives.build(config, 2, 2), 2, True)
    assert not trainer.jit_compiled
    assert make_step(RecordingDiscriminator(True), config).jit_compiled
