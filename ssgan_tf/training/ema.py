"""An exponential moving average of the discriminator's weights."""

import tensorflow as tf


class WeightAverage:
    """Keeps `averaged` (a model of the same architecture as `source`) at
    decay * averaged + (1 - decay) * source after every `update()`.

    Only trainable weights are averaged; non-trainable state such as batch-norm
    statistics is copied as it is.
    """

    def __init__(self, source, averaged, decay):
        self.source, self.averaged, self.decay = source, averaged, decay
        self.copy()

    def copy(self):
        for target, value in zip(self.averaged.weights, self.source.weights):
            target.assign(value)

    def update(self):
        # averaged -= (1 - decay) * (averaged - source): the same average,
        # in fewer passes over the weights than decay * a + (1 - decay) * s.
        rate = tf.constant(1.0 - self.decay, tf.float32)
        for target, value in zip(self.averaged.trainable_weights,
                                 self.source.trainable_weights):
            target.assign_sub(rate * (target - value))
        for target, value in zip(self.averaged.non_trainable_weights,
                                 self.source.non_trainable_weights):
            target.assign(value)
