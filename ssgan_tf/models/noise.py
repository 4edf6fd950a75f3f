"""The discriminators' random draws: Gaussian noise and dropout masks, from a
table of samples, as a function of (run seed, step, example).

The paper's MLP discriminator adds N(0, sigma^2) noise to its input and to
every hidden layer while training (about 1.5 million samples a step at batch
100), its 32x32 discriminator drops inputs out. On a CPU, drawing fresh
samples costs about as much as the network's matrix products. Instead each
use takes a contiguous slice of a fixed table of N(0, 1) samples, the "shared
noise table" of OpenAI's evolution strategies; a dropout mask keeps the
samples above the rate's normal quantile.

Where a slice starts is stateless: a Philox draw keyed by the run's seed, the
training step, the batch's stream (labeled, generated, unlabeled, ...) and the
layer, plus the example's global index in the batch times its size. So an
example gets the same noise whether one device or k replicas process its
batch, with or without XLA, and a resumed run draws what an uninterrupted one
draws. Two uses share samples only at shifted positions, except when their
offsets coincide (about one chance in four million).

The table is not a weight: it is not trained, averaged or saved.
"""

import dataclasses
import functools
import statistics
from typing import Sequence

import numpy as np
import tensorflow as tf

TABLE_SIZE = 1 << 22  # 4,194,304 samples, 16 MiB
TABLE_SEED = 1606  # arXiv 1606.03498

# The streams of a training step: each batch a discriminator sees has one, so
# the same example gets other draws in another role. Generator updates add
# 2 * update index.
LABELED, UNLABELED, FAKE, FAKE_G, REAL_G = 0, 1, 2, 3, 4
INIT = 99  # the data-dependent initialization


@dataclasses.dataclass(frozen=True)
class Segment:
    """Rows `first` .. `first + count` of the global batch of `stream`."""
    stream: int
    first: object  # int or scalar int tensor
    count: object


@dataclasses.dataclass(frozen=True)
class Draws:
    """What a network's random draws depend on, for one (possibly
    concatenated) batch: the key (seed, step), the global batch size and the
    segments the rows of the batch belong to, in order."""
    seed: object
    step: object
    global_batch: object
    segments: Sequence[Segment]

    @classmethod
    def whole(cls, seed, step, batch, stream=LABELED):
        """One batch of `batch` rows on one device."""
        return cls(seed, step, batch, [Segment(stream, 0, batch)])

    def key(self, stream, use):
        """The Philox key of one layer's draws (`use`) for one stream."""
        key = tf.stack([tf.cast(self.seed, tf.int64),
                        tf.cast(self.step, tf.int64)])
        key = tf.random.experimental.stateless_fold_in(key, stream,
                                                       alg="philox")
        return tf.random.experimental.stateless_fold_in(key, use, alg="philox")


@functools.lru_cache(maxsize=None)
def _table_values(size):
    return np.random.default_rng(TABLE_SEED).standard_normal(size,
                                                            dtype=np.float32)


class NoiseTable:
    """`gaussian(x, stddev, draws, use)` adds N(0, stddev^2) noise of x's
    shape; `dropout(x, rate, draws, use)` drops elements at `rate` (and scales
    the rest by 1 / (1 - rate)). `use` tells a network's layers apart.

    Args:
      size: the table's length. When a stream's global batch needs more
        samples than that, each example takes its own slice instead (a
        gather: slower, the same distribution).
    """

    def __init__(self, size=TABLE_SIZE):
        self.size = size
        # A plain variable, created where the model is (in a strategy's
        # scope: one copy per replica device), and not tracked by Keras.
        self.table = tf.Variable(_table_values(size), trainable=False,
                                 name="noise_table")

    def samples(self, x, draws: Draws, use: int):
        """N(0, 1) samples of x's shape, row by row as `draws` says."""
        per_example = int(np.prod(x.shape[1:]))
        if per_example > self.size:
            raise ValueError(f"{per_example} values per example: more than "
                             f"the noise table's {self.size}")
        parts = []
        for segment in draws.segments:
            key = draws.key(segment.stream, use)
            first = tf.cast(segment.first, tf.int32)
            span = tf.cast(draws.global_batch, tf.int32) * per_example
            parts.append(self._slices(key, first, segment.count, per_example,
                                      span, draws))
        values = tf.concat(parts, axis=0) if len(parts) > 1 else parts[0]
        return tf.reshape(values, tf.shape(x))

    def _slices(self, key, first, count, per_example, span, draws):
        """The segment's samples: one slice of the stream's span when the
        table holds it, else a slice per example. (Gathered, not sliced:
        under XLA a slice whose start depends on the step's arguments is
        compiled anew for every start.)"""
        size = tf.constant(self.size, tf.int32)

        def one_slice():
            start = tf.random.stateless_uniform(
                [], key, 0, size - span + 1, dtype=tf.int32, alg="philox")
            return tf.gather(self.table, start + first * per_example +
                             tf.range(count * per_example))

        def per_row():
            starts = tf.random.stateless_uniform(
                [draws.global_batch], key, 0, size - per_example + 1,
                dtype=tf.int32, alg="philox")
            starts = tf.gather(starts, first + tf.range(count))
            index = starts[:, None] + tf.range(per_example)[None, :]
            return tf.reshape(tf.gather(self.table, index), [-1])

        static_span = tf.get_static_value(span)
        if static_span is not None:
            return one_slice() if static_span <= self.size else per_row()
        return tf.cond(span <= size, one_slice, per_row)

    def gaussian(self, x, stddev, draws: Draws, use: int):
        return x + tf.cast(self.samples(x, draws, use), x.dtype) * stddev

    def dropout(self, x, rate, draws: Draws, use: int):
        threshold = statistics.NormalDist().inv_cdf(rate)
        keep = self.samples(x, draws, use) >= threshold
        return tf.where(keep, x / tf.cast(1.0 - rate, x.dtype),
                        tf.zeros_like(x))
