"""The weight average of the discriminator."""

import numpy as np
import tensorflow as tf

from ssgan_tf.training.ema import WeightAverage


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
