"""The optimizers: the fused Adam against Keras's own, and the schedule."""

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf.config import Config
from ssgan_tf.training import optimizer as optimizer_lib

keras = tf.keras


def run_adam(optimizer, gradients):
    variable = keras.Variable(np.array([[0.5, -1.0], [2.0, 0.0]], np.float32))
    optimizer.build([variable])
    for gradient in gradients:
        optimizer.apply_gradients([(tf.constant(gradient, tf.float32),
                                    variable)])
    return variable.numpy(), [v.numpy() for v in optimizer.variables]


def test_fused_adam_makes_keras_adams_updates():
    gradients = [[[1.0, -2.0], [0.5, 0.0]], [[-3.0, 1.0], [0.25, 4.0]],
                 [[0.1, 0.1], [-1.0, 2.0]]]
    schedule = optimizer_lib.LinearTailDecay(0.01, 3, 2 / 3)  # 0.01, 0.0067..
    fused = optimizer_lib.FusedAdam(schedule, beta_1=0.5)
    plain = keras.optimizers.Adam(schedule, beta_1=0.5)
    fused_value, fused_state = run_adam(fused, gradients)
    plain_value, plain_state = run_adam(plain, gradients)
    np.testing.assert_allclose(fused_value, plain_value, rtol=1e-6, atol=1e-7)
    assert len(fused_state) == len(plain_state)  # iterations, lr, m, v
    # The kernel forms 1 - beta_2 in float32 (0.00099999), Keras in Python
    # (0.001): v differs in its fifth digit, the update far below that.
    for ours, theirs in zip(fused_state, plain_state):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-7)
    # By hand, the first step: m = 0.5 g, v = 0.001 g^2, bias-corrected
    # m / sqrt(v) = sign(g), so each entry moves by lr = 0.01 against g.
    first, _ = run_adam(optimizer_lib.FusedAdam(0.01, beta_1=0.5,
                                                epsilon=1e-12), gradients[:1])
    np.testing.assert_allclose(first, [[0.49, -0.99], [1.99, 0.0]], rtol=1e-5)


def test_without_kerass_private_attributes_keras_adam_updates(monkeypatch):
    """A Keras whose Adam lacks what FusedAdam reads: Keras' own update runs
    (the fused kernel is never called) and gives Keras' result."""
    gradients = [[[1.0, -2.0], [0.5, 0.0]], [[-3.0, 1.0], [0.25, 4.0]]]
    monkeypatch.setattr(optimizer_lib, "KERAS_PRIVATE",
                        ("_momentums", "_attribute_a_later_keras_dropped"))

    def no_kernel(**kwargs):
        raise AssertionError("the fused kernel ran")
    monkeypatch.setattr(optimizer_lib.tf.raw_ops, "ResourceApplyAdam",
                        no_kernel)
    fused_value, _ = run_adam(optimizer_lib.FusedAdam(0.01, beta_1=0.5),
                              gradients)
    plain_value, _ = run_adam(keras.optimizers.Adam(0.01, beta_1=0.5),
                              gradients)
    np.testing.assert_allclose(fused_value, plain_value, rtol=1e-6)


def test_adam_epsilon_comes_from_the_config():
    # First step, gradient g: m = 0.5 g, v = 0.001 g^2, and TensorFlow's
    # kernel moves by lr * sqrt(0.001) / 0.5 * m / (sqrt(v) + epsilon)
    # = lr * u / (u + epsilon) with u = sqrt(0.001) g.
    gradient = 1e-4
    u = np.sqrt(0.001) * gradient
    for epsilon in (1e-7, 1e-4):
        optimizer = optimizer_lib.build_optimizer(
            Config(adam_epsilon=epsilon), 0.01)
        value = run_adam(optimizer, [[[gradient] * 2] * 2])[0]
        np.testing.assert_allclose(0.5 - value[0, 0],
                                   0.01 * u / (u + epsilon), rtol=1e-4)


def test_fused_adam_keeps_the_checkpoint_keys():
    def keys(optimizer):
        variable = keras.Variable(np.zeros([2], np.float32))
        optimizer.build([variable])
        optimizer.apply_gradients([(tf.ones([2]), variable)])
        prefix = tf.train.Checkpoint(opt=optimizer).write(
            f"{tf.compat.v1.test.get_temp_dir()}/{type(optimizer).__name__}")
        return sorted(name for name, _ in tf.train.list_variables(prefix))

    ours = optimizer_lib.build_optimizer(Config(lr_decay_fraction=0.5), 0.001)
    assert isinstance(ours, optimizer_lib.FusedAdam)
    assert keys(ours) == keys(keras.optimizers.Adam(
        optimizer_lib.LinearTailDecay(0.001, 100, 0.5), beta_1=0.5))


def test_learning_rate_decays_over_the_last_fraction_of_the_steps():
    schedule = optimizer_lib.LinearTailDecay(0.3, 30, 1 / 3)  # constant to step 20, then to 0
    for step, expected in ((0, 0.3), (20, 0.3), (25, 0.15), (29, 0.03),
                           (30, 0.0), (40, 0.0)):
        assert abs(float(schedule(tf.constant(step))) - expected) < 1e-6
    assert float(optimizer_lib.LinearTailDecay(0.3, 30, 0.0)(tf.constant(29))) == \
        pytest.approx(0.3)
    # The generator's schedule follows the training step (the discriminator's
    # update count), not its own count, which extra updates push ahead.
    counter = tf.Variable(25, dtype=tf.int64)
    follower = optimizer_lib.LinearTailDecay(0.3, 30, 1 / 3, step_counter=counter)
    assert float(follower(tf.constant(1000))) == pytest.approx(0.15)
    counter.assign(10)
    assert float(follower(tf.constant(1000))) == pytest.approx(0.3)


def test_the_papers_epsilon_is_added_to_the_bias_corrected_root():
    # First step, gradient g: m = 0.5 g, v = 0.001 g^2, bias-corrected
    # m^ = g, v^ = g^2, and the paper moves by lr * g / (|g| + epsilon):
    # half of lr for g = epsilon = 1e-4. Keras's form (the same epsilon
    # added to sqrt(v) = sqrt(0.001) |g|) moves by lr * u / (u + epsilon),
    # u = sqrt(0.001) g: 3% of lr.
    gradient, epsilon, lr = 1e-4, 1e-4, 0.01
    paper = optimizer_lib.build_optimizer(
        Config(adam_epsilon=epsilon, adam_epsilon_form="paper"), lr)
    value = run_adam(paper, [[[gradient] * 2] * 2])[0]
    np.testing.assert_allclose(0.5 - value[0, 0], lr * 0.5, rtol=1e-4)
    u = np.sqrt(0.001) * gradient
    keras_form = optimizer_lib.build_optimizer(Config(adam_epsilon=epsilon),
                                               lr)
    value = run_adam(keras_form, [[[gradient] * 2] * 2])[0]
    np.testing.assert_allclose(0.5 - value[0, 0], lr * u / (u + epsilon),
                               rtol=1e-4)
    # Second step, the same gradient again: m^ = g and v^ = g^2 still, so
    # the paper's form moves by lr / 2 again (step 1 and 2 of the kernel
    # get epsilon * sqrt(1 - 0.999^t), different for each t).
    paper = optimizer_lib.build_optimizer(
        Config(adam_epsilon=epsilon, adam_epsilon_form="paper"), lr)
    value = run_adam(paper, [[[gradient] * 2] * 2] * 2)[0]
    np.testing.assert_allclose(0.5 - value[0, 0], lr, rtol=1e-4)


def test_the_32x32_presets_put_epsilon_where_the_paper_does():
    for name in ("svhn_1000", "cifar10_4000", "own_32x32"):
        assert Config.from_preset(name).adam_epsilon_form == "paper"
    # the MNIST preset keeps the form it was measured with
    assert Config.from_preset("mnist_100").adam_epsilon_form == "keras"
