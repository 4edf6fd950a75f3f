"""The original repository's networks, for any image shape and class count.

Generator: z -> dense 1024 -> ceil(log2(max(h, w))) upsampling blocks halving
the channels (never below c) -> 1x1 conv to c, tanh -> resized to (h, w).
Discriminator: ceil(log2(min(h, w))) stride-2 conv blocks (32, 64, 128, 256,
256, 512, then 512) -> 1x1 conv to a quarter of the last width -> 1x1 conv to
N + 1 logits, averaged over whatever spatial extent is left.
"""

import math

import tensorflow as tf

from ssgan_tf.models import layers

keras = tf.keras

DENSE_UNITS = 1024
D_WIDTHS = (32, 64, 128, 256, 256, 512)
D_WIDTH_AFTER = 512


def num_up_blocks(height, width):
    return max(0, math.ceil(math.log2(max(height, width))))


def num_down_blocks(height, width):
    return max(0, math.ceil(math.log2(min(height, width))))


class Generator(keras.Model):
    """Uniform noise [batch, n_z] -> images [batch, h, w, c] in [-1, 1]."""

    def __init__(self, image_shape, n_z, norm_type="batch",
                 deconv_type="bilinear", sync_batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.n_z = n_z
        height, width, channels = self.image_shape
        dense_norm = norm_type if norm_type != "instance" else "none"
        self.dense = keras.layers.Dense(DENSE_UNITS,
                                        use_bias=not layers.has_norm(dense_norm))
        self.dense_norm = layers.norm_layer(dense_norm, sync_batch_norm)
        self.blocks = []
        width_now = DENSE_UNITS
        for index in range(num_up_blocks(height, width)):
            width_now = max(width_now // 2, channels)
            self.blocks.append(layers.UpBlock(width_now, deconv_type, norm_type,
                                              sync_batch_norm,
                                              name=f"up_{index}"))
        layers.track(self, "up", self.blocks)
        self.to_image = keras.layers.Conv2D(channels, 1)

    def call(self, z, training=False):
        x = self.dense(z)
        x = tf.nn.relu(self.dense_norm(x, training=training))
        x = tf.reshape(x, [-1, 1, 1, DENSE_UNITS])
        for block in self.blocks:
            x = block(x, training=training)
        x = tf.tanh(tf.cast(self.to_image(x), keras.config.floatx()))
        height, width, _ = self.image_shape
        if x.shape[1] != height or x.shape[2] != width:
            # A convex combination of values in [-1, 1] stays in [-1, 1].
            x = tf.image.resize(x, (height, width), method="bilinear")
        return x


class Discriminator(keras.Model):
    """Images -> logits [batch, num_class + 1], the last one "generated"."""

    def __init__(self, image_shape, num_class, norm_type="batch",
                 sync_batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.num_class = num_class
        height, width, _ = self.image_shape
        self.blocks = []
        last = D_WIDTHS[0]
        for index in range(num_down_blocks(height, width)):
            last = D_WIDTHS[index] if index < len(D_WIDTHS) else D_WIDTH_AFTER
            self.blocks.append(layers.DownBlock(last, norm_type, sync_batch_norm,
                                               name=f"down_{index}"))
        layers.track(self, "down", self.blocks)
        self.reduce = keras.layers.Conv2D(max(1, last // 4), 1)
        self.classify = keras.layers.Conv2D(num_class + 1, 1)

    def features_and_logits(self, images, training=False, draws=None):
        """(features [batch, last/4] for feature matching, logits); `draws`
        is unused: the network draws nothing at random."""
        x = images
        for block in self.blocks:
            x = block(x, training=training)
        x = tf.nn.leaky_relu(self.reduce(x), alpha=0.2)
        logits = tf.reduce_mean(self.classify(x), axis=[1, 2])
        return tf.reduce_mean(x, axis=[1, 2]), tf.cast(logits, keras.config.floatx())

    def call(self, images, training=False):
        return self.features_and_logits(images, training=training)[1]
