"""The weight average of the discriminator."""

import numpy as np
import tensorflow as tf

from ssgan_tf.training.ema import WeightAverage, warmed_up_decay


def test_update_is_the_exponential_moving_average():
    source = tf.keras.Sequential([tf.keras.layers.Dense(2, use_bias=False)])
    averaged = tf.keras.Sequential([tf.keras.layers.Dense(2, use_bias=False)])
    source.build((None, 1))
    averaged.build((None, 1))
    source.layers[0].kernel.assign([[1.0, 2.0]])
    ema = WeightAverage(source, averaged, decay=0.9)
    np.testing.assert_allclose(averaged.layers[0].kernel.numpy(), [[1.0, 2.0]])
    source.layers[0].kernel.assign([[11.0, 2.0]])
    ema.update()
    # 0.9 * 1 + 0.1 * 11 = 2.0 ; 0.9 * 2 + 0.1 * 2 = 2.0
    np.testing.assert_allclose(averaged.layers[0].kernel.numpy(), [[2.0, 2.0]],
                               rtol=1e-6)
    ema.update()
    # 0.9 * 2 + 0.1 * 11 = 2.9
    np.testing.assert_allclose(averaged.layers[0].kernel.numpy(), [[2.9, 2.0]],
                               rtol=1e-6)


def test_the_decay_warms_up_with_the_step():
    np.testing.assert_allclose(
        [float(warmed_up_decay(0.999, step)) for step in (0, 1, 90, 8990, 10**5)],
        [1 / 10, 2 / 11, 91 / 100, 0.999, 0.999], rtol=1e-6)


def test_update_uses_the_warmed_up_decay_of_the_step():
    source = tf.keras.Sequential([tf.keras.layers.Dense(1, use_bias=False)])
    averaged = tf.keras.Sequential([tf.keras.layers.Dense(1, use_bias=False)])
    source.build((None, 1))
    averaged.build((None, 1))
    source.layers[0].kernel.assign([[0.0]])
    step = tf.Variable(1, dtype=tf.int64)
    ema = WeightAverage(source, averaged, decay=0.999, step=step)
    source.layers[0].kernel.assign([[11.0]])
    ema.update()
    # decay 2/11: 2/11 * 0 + 9/11 * 11 = 9
    np.testing.assert_allclose(averaged.layers[0].kernel.numpy(), [[9.0]],
                               rtol=1e-6)
    step.assign(10**6)
    source.layers[0].kernel.assign([[1009.0]])
    ema.update()
    # decay 0.999: 9 + 0.001 * (1009 - 9) = 10
    np.testing.assert_allclose(averaged.layers[0].kernel.numpy(), [[10.0]],
                               rtol=1e-5)


def test_a_runs_weight_average_warms_up_with_the_training_step():
    from ssgan_tf.config import Config
    from ssgan_tf.training import build as build_lib
    config = Config(batch_size=8, n_z=16, ema_decay=0.999)
    built = build_lib.build(config, tf.distribute.get_strategy(), (12, 12, 1),
                            4)
    assert built.ema.step is built.d_optimizer.iterations
