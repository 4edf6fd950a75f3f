"""Gaussian noise for the MNIST discriminator, from a table of samples.

The paper's MLP discriminator adds N(0, sigma^2) noise to its input and to
every hidden layer while training: about 1.5 million samples per training
step at batch 100. On a CPU, drawing them fresh (`tf.random.normal`) costs
about as much as the network's own matrix products. Instead each use takes a
contiguous slice of a fixed table of N(0, 1) samples at a random offset,
the "shared noise table" of OpenAI's evolution strategies: each
use's noise is still Gaussian with the asked deviation and independent of
the images. Two uses whose offsets are close share samples, but at shifted
positions: one image and unit get the same sample in two uses only when the
offsets coincide (about one chance in four million).

The table is not a weight: it is not trained, averaged or saved.
"""

import functools

import numpy as np
import tensorflow as tf

TABLE_SIZE = 1 << 22  # 4,194,304 samples, 16 MiB
TABLE_SEED = 1606  # arXiv 1606.03498


@functools.lru_cache(maxsize=None)
def _table_values(size):
    return np.random.default_rng(TABLE_SEED).standard_normal(size,
                                                            dtype=np.float32)


class GaussianNoise:
    """`noise(x, stddev)` returns x plus N(0, stddev^2) noise of x's shape.

    Args:
      size: the table's length; a tensor with more elements than this, or
        one whose size is not known when the graph is built, gets fresh
        samples.
    """

    def __init__(self, size=TABLE_SIZE):
        self.size = size
        # A plain variable, created where the model is (in a strategy's
        # scope: one copy per replica device), and not tracked by Keras.
        self.table = tf.Variable(_table_values(size), trainable=False,
                                 name="noise_table")

    def __call__(self, x, stddev):
        count = x.shape.num_elements()
        if count is None or count > self.size:
            return x + tf.random.normal(tf.shape(x), stddev=stddev,
                                        dtype=x.dtype)
        offset = tf.random.uniform([], 0, self.size - count + 1,
                                   dtype=tf.int32)
        samples = tf.reshape(tf.slice(self.table, [offset], [count]),
                             tf.shape(x))
        return x + tf.cast(samples, x.dtype) * stddev
