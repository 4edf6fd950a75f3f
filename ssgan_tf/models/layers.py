"""Layers the networks share: normalization by name, instance norm, upsampling,
and weight normalization with the paper's data-dependent initialization."""

import tensorflow as tf

keras = tf.keras


class InstanceNorm(keras.layers.Layer):
    """Normalizes each channel of each example over its spatial positions."""

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(name="gamma", shape=(channels,),
                                     initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,),
                                    initializer="zeros")

    def call(self, inputs):
        mean, variance = tf.nn.moments(inputs, axes=[1, 2], keepdims=True)
        normalized = (inputs - mean) * tf.math.rsqrt(variance + self.epsilon)
        return normalized * self.gamma + self.beta


class Identity(keras.layers.Layer):
    def call(self, inputs):
        return inputs


def norm_layer(norm_type, sync=False):
    """`batch`, `instance` or `none`."""
    if norm_type == "batch":
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5,
                                               synchronized=sync)
    if norm_type == "instance":
        return InstanceNorm()
    if norm_type in ("none", "None"):
        return Identity()
    raise ValueError(f"unknown norm_type {norm_type!r}")


class UpBlock(keras.layers.Layer):
    """Doubles height and width: resize then 3x3 conv (`bilinear`, `nn`) or a
    stride-2 transposed conv (`transpose`); then the norm and ReLU."""

    def __init__(self, channels, deconv_type, norm_type, sync=False, **kwargs):
        super().__init__(**kwargs)
        if deconv_type in ("bilinear", "nn"):
            interpolation = "bilinear" if deconv_type == "bilinear" else "nearest"
            self.upsample = keras.layers.UpSampling2D(2,
                                                      interpolation=interpolation)
            self.conv = keras.layers.Conv2D(channels, 3, padding="same")
        elif deconv_type == "transpose":
            self.upsample = Identity()
            self.conv = keras.layers.Conv2DTranspose(channels, 3, strides=2,
                                                     padding="same")
        else:
            raise ValueError(f"unknown deconv_type {deconv_type!r}")
        self.norm = norm_layer(norm_type, sync)

    def call(self, inputs, training=False):
        x = self.conv(self.upsample(inputs))
        return tf.nn.relu(self.norm(x, training=training))


class DownBlock(keras.layers.Layer):
    """A stride-2 3x3 conv, the norm, leaky ReLU 0.2."""

    def __init__(self, channels, norm_type, sync=False, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(channels, 3, strides=2, padding="same")
        self.norm = norm_layer(norm_type, sync)

    def call(self, inputs, training=False):
        return tf.nn.leaky_relu(self.norm(self.conv(inputs), training=training),
                                alpha=0.2)
