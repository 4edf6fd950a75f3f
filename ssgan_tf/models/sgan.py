"""Odena 2016's semi-supervised GAN as it is commonly implemented.

Discriminator: three stride-2 conv blocks (batch norm, leaky ReLU 0.2) and a
dense layer shared by two heads: N class logits (softmax, cross-entropy on
labeled images) and one real/fake logit (sigmoid, binary cross-entropy on real
and generated images). Its output is [batch, N + 1]: the N class logits, then
the real/fake logit (positive: real).
Generator: dense -> two transposed-conv blocks with batch norm -> a conv with
tanh. All weights drawn from N(0, 0.02).
"""

import math

import tensorflow as tf

from ssgan_tf.models.layers import track

keras = tf.keras


def _init():
    return keras.initializers.RandomNormal(stddev=0.02)


class Discriminator(keras.Model):
    WIDTHS = (64, 128, 256)
    DENSE = 256

    def __init__(self, image_shape, num_class, sync=False, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.num_class = tuple(image_shape), num_class
        self.convs = [keras.layers.Conv2D(w, 3, 2, "same",
                                          kernel_initializer=_init())
                      for w in self.WIDTHS]
        self.norms = [keras.layers.BatchNormalization(momentum=0.9, synchronized=sync)
                      for _ in self.WIDTHS]
        track(self, "conv", self.convs)
        track(self, "norm", self.norms)
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(self.DENSE, kernel_initializer=_init())
        self.classes = keras.layers.Dense(num_class, kernel_initializer=_init())
        self.real_fake = keras.layers.Dense(1, kernel_initializer=_init())

    def features_and_logits(self, images, training=False, draws=None):
        """`draws` is unused: the network draws nothing at random."""
        x = tf.cast(images, keras.config.floatx())
        for conv, norm in zip(self.convs, self.norms):
            x = tf.nn.leaky_relu(norm(conv(x), training=training), alpha=0.2)
        features = tf.nn.leaky_relu(self.dense(self.flatten(x)), alpha=0.2)
        logits = tf.concat([self.classes(features), self.real_fake(features)],
                           axis=-1)
        return features, tf.cast(logits, keras.config.floatx())

    def call(self, images, training=False):
        return self.features_and_logits(images, training)[1]


class Generator(keras.Model):
    def __init__(self, image_shape, n_z, sync=False, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.n_z = tuple(image_shape), n_z
        height, width, channels = self.image_shape
        self.start = (math.ceil(height / 4), math.ceil(width / 4))
        self.dense = keras.layers.Dense(self.start[0] * self.start[1] * 128,
                                        kernel_initializer=_init())
        self.norm0 = keras.layers.BatchNormalization(momentum=0.9, synchronized=sync)
        self.deconvs = [keras.layers.Conv2DTranspose(w, 4, 2, "same",
                                                     kernel_initializer=_init())
                        for w in (128, 64)]
        self.norms = [keras.layers.BatchNormalization(momentum=0.9, synchronized=sync)
                      for _ in range(2)]
        track(self, "deconv", self.deconvs)
        track(self, "norm", self.norms)
        self.to_image = keras.layers.Conv2D(channels, 3, padding="same",
                                            kernel_initializer=_init())

    def call(self, z, training=False):
        x = tf.nn.relu(self.norm0(self.dense(z), training=training))
        x = tf.reshape(x, [-1, self.start[0], self.start[1], 128])
        for deconv, norm in zip(self.deconvs, self.norms):
            x = tf.nn.relu(norm(deconv(x), training=training))
        x = tf.tanh(tf.cast(self.to_image(x), keras.config.floatx()))
        height, width, _ = self.image_shape
        return x[:, :height, :width, :]
