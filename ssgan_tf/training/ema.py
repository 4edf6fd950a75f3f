"""An exponential moving average of the discriminator's weights."""

import tensorflow as tf


def warmed_up_decay(decay, step):
    """The decay after `step` updates: min(decay, (1 + step) / (10 + step)),
    as TensorFlow's ExponentialMovingAverage with `num_updates`.

    With the full decay from the first step, the average would still hold
    0.999^3000 = 5% of the initial (untrained) weights at step 3,000; with the
    warm-up it weighs roughly the last tenth of the steps until the decay is
    reached (at step 890 for 0.99, 8,990 for 0.999).
    """
    step = tf.cast(step, tf.float32)
    return tf.minimum(tf.constant(decay, tf.float32),
                      (1.0 + step) / (10.0 + step))


class WeightAverage:
    """Keeps `averaged` (a model of the same architecture as `source`) at
    d * averaged + (1 - d) * source after every `update()`, where d is `decay`
    warmed up over the first steps (`warmed_up_decay`) by `step`, a counter
    of the updates so far; without `step`, d is `decay` throughout.

    Only trainable weights are averaged; non-trainable state such as batch-norm
    statistics is copied as it is.
    """

    def __init__(self, source, averaged, decay, step=None):
        self.source, self.averaged, self.decay = source, averaged, decay
        self.step = step
        self.copy()

    def copy(self):
        for target, value in zip(self.averaged.weights, self.source.weights):
            target.assign(value)

    def update(self):
        # averaged -= (1 - d) * (averaged - source): the same average,
        # in fewer passes over the weights than d * a + (1 - d) * s.
        decay = tf.constant(self.decay, tf.float32) if self.step is None \
            else warmed_up_decay(self.decay, self.step)
        rate = 1.0 - decay
        for target, value in zip(self.averaged.trainable_weights,
                                 self.source.trainable_weights):
            target.assign_sub(tf.cast(rate, target.dtype) * (target - value))
        for target, value in zip(self.averaged.non_trainable_weights,
                                 self.source.non_trainable_weights):
            target.assign(value)
