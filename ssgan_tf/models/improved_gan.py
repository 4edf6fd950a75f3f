"""The networks of Salimans et al. 2016, "Improved Techniques for Training GANs".

28x28 grey (MNIST): D an MLP 1000-500-250-250-250 with Gaussian noise (sigma
0.3 on the input, 0.5 after each hidden layer, while training) and weight
normalization; G uniform noise -> 500 -> 500 (softplus, batch norm) -> 784 with
weight normalization and a sigmoid. The paper's pixels lay in [0, 1]; ours lie
in [-1, 1], so D maps its input to [0, 1] before the noise and G maps its
sigmoid to [-1, 1]: the noise keeps the paper's scale.

32x32 colour (SVHN, CIFAR-10): D nine 3x3 / 1x1 convolutions (96, 96, 96/2,
192, 192, 192/2, 192 valid, 192 1x1, 192 1x1 for CIFAR-10; 64 and 128 for
SVHN), leaky ReLU 0.2, dropout, weight normalization, global average pooling,
dense to the classes; G dense to 4x4x512 then transposed convolutions to
8x8x256, 16x16x128 (batch norm) and a weight-normed one to 32x32x3 (tanh).

The MLP discriminator's weight normalization starts from unit-norm rows
(`d_init="unit"`) or from the paper's data-dependent initialization
(`"data"`), which standardizes each layer's pre-activations on the
initialization batch with the noise on; the 32x32 discriminator always uses
the initialization. The paper's generators' batch norms have no scale; ours
have one unless `g_bn_scale=False`. Presets choose both (presets.py).

Both discriminators give N logits (the fake logit is fixed at 0) and
`features_and_logits` for feature matching on the last hidden layer. Their
Gaussian noise and dropout masks come from slices of a fixed table of samples
placed by (seed, step, example): `draws` (noise.py).
"""

import tensorflow as tf

from ssgan_tf.errors import UserError
from ssgan_tf.models.layers import (WeightNormConv2D, WeightNormConv2DTranspose,
                                    WeightNormDense, track)
from ssgan_tf.models import noise as noise_lib

keras = tf.keras


def build(image_shape, num_class, n_z, g_bn_scale=True, d_init="unit",
          d_width=96, sync_batch_norm=False):
    """`g_bn_scale`: whether the generator's batch norms learn a scale.
    `d_init`: the MLP discriminator's initialization, `unit` rows or the
    paper's `data`-dependent one. `d_width`: the 32x32 discriminator's
    channels before its first stride (twice as many after it).
    `sync_batch_norm`: the generators' batch norms take their statistics
    over the replicas' global batch."""
    height, width, channels = image_shape
    if (height, width, channels) == (28, 28, 1):
        return (MlpGenerator(image_shape, n_z, g_bn_scale, sync_batch_norm),
                MlpDiscriminator(image_shape, num_class, init=d_init))
    if (height, width) == (32, 32):
        return (ConvGenerator(image_shape, n_z, g_bn_scale, sync_batch_norm),
                ConvDiscriminator(image_shape, num_class, width=d_width))
    raise UserError(f"--model improved_gan: the paper's networks are for 28x28x1 "
                    f"and 32x32 images, not {tuple(image_shape)}; use --model "
                    f"original")


class MlpDiscriminator(keras.Model):
    batch_independent = True  # no batch norm: batches may be concatenated
    HIDDEN = (1000, 500, 250, 250, 250)
    INPUT_NOISE, HIDDEN_NOISE = 0.3, 0.5
    # The paper's MNIST code draws these layers' directions from N(0, 0.1),
    # twice the 32x32 networks' 0.05: at one learning rate the rows turn half
    # as fast, which keeps the preset's generator from losing to D.
    INIT_STDDEV = 0.1

    def __init__(self, image_shape, num_class, init="unit", **kwargs):
        super().__init__(**kwargs)
        if init not in ("unit", "data"):
            raise ValueError(f"unknown initialization {init!r}")
        self.image_shape, self.num_class = tuple(image_shape), num_class
        self.noise = noise_lib.NoiseTable()
        self.init = init
        self.hidden = [WeightNormDense(units, train_scale=False,
                                       init_stddev=self.INIT_STDDEV,
                                       name=f"dense_{i}")
                       for i, units in enumerate(self.HIDDEN)]
        track(self, "hidden", self.hidden)
        self.out = WeightNormDense(num_class, init_stddev=self.INIT_STDDEV,
                                   name="logits")

    @staticmethod
    def _unit_range(images):
        return (tf.reshape(tf.cast(images, keras.config.floatx()), [-1, 784]) + 1.0) / 2.0

    def features_and_logits(self, images, training=False, draws=None):
        """`draws` (noise.Draws): where the training noise comes from."""
        x = self._unit_range(images)
        if training:
            if draws is None:
                draws = _default_draws(x)
            x = self.noise.gaussian(x, self.INPUT_NOISE, draws, 0)
        for use, layer in enumerate(self.hidden, 1):
            features = tf.nn.relu(layer(x))
            x = features
            if training:
                x = self.noise.gaussian(x, self.HIDDEN_NOISE, draws, use)
        # Feature matching uses the last hidden layer before its noise: the
        # noise would only add variance to the matched means.
        return features, self.out(x)

    def call(self, images, training=False):
        return self.features_and_logits(images, training)[1]

    def initialize(self, images, draws=None):
        """With `init="data"`, the paper's data-dependent initialization: each
        layer's g and b standardize its pre-activations on `images`, with the
        training noise on (as the paper's code runs it); the hidden scales
        then stay fixed. With `unit` rows, nothing."""
        if self.init != "data":
            return
        x = self._unit_range(images)
        if draws is None:
            draws = _default_draws(x)
        x = self.noise.gaussian(x, self.INPUT_NOISE, draws, 0)
        for use, layer in enumerate(self.hidden, 1):
            x = self.noise.gaussian(tf.nn.relu(layer.initialize(x)),
                                    self.HIDDEN_NOISE, draws, use)
        self.out.initialize(x)


def _default_draws(x):
    """Draws for a batch used alone (seed 0, step 0): outside training."""
    return noise_lib.Draws.whole(0, 0, tf.shape(x)[0])


class MlpGenerator(keras.Model):
    def __init__(self, image_shape, n_z, bn_scale=True, sync=False, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.n_z = tuple(image_shape), n_z
        self.dense = [keras.layers.Dense(500, use_bias=False) for _ in range(2)]
        self.norms = [keras.layers.BatchNormalization(epsilon=1e-5,
                                                      scale=bn_scale,
                                                      synchronized=sync)
                      for _ in range(2)]
        track(self, "dense", self.dense)
        track(self, "norm", self.norms)
        self.out = WeightNormDense(784, name="pixels")

    def pixel_logits(self, z, training=False):
        """The output layer's pre-activations: the sigmoid's inputs."""
        x = z
        for dense, norm in zip(self.dense, self.norms):
            x = tf.nn.softplus(norm(dense(x), training=training))
        return self.out(x)

    def call(self, z, training=False):
        pixels = tf.sigmoid(tf.cast(self.pixel_logits(z, training), keras.config.floatx()))
        return tf.reshape(pixels * 2.0 - 1.0, [-1, 28, 28, 1])


class ConvDiscriminator(keras.Model):
    """The paper's 32x32 discriminator: nine weight-normed 3x3 / 1x1
    convolutions (`width` channels, then 2 * width), dropout, leaky ReLU,
    global average pooling and a weight-normed dense layer to the classes.
    As in the paper's code, the convolutions' scales g are set by the
    data-dependent initialization and then fixed; the output layer's is
    trained, initialized to pre-activations of deviation OUT_INIT_SCALE."""

    batch_independent = True  # no batch norm: batches may be concatenated
    init_from_labeled = True  # the paper initializes on labeled images
    OUT_INIT_SCALE = 0.1

    def __init__(self, image_shape, num_class, width=96, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.num_class = tuple(image_shape), num_class
        wide = 2 * width
        # (filters, kernel, stride, padding on each side), as the paper's
        spec = [(width, 3, 1, 1), (width, 3, 1, 1), (width, 3, 2, 1),
                (wide, 3, 1, 1), (wide, 3, 1, 1), (wide, 3, 2, 1),
                (wide, 3, 1, 0), (wide, 1, 1, 0), (wide, 1, 1, 0)]
        self.convs = [WeightNormConv2D(f, k, s, p, train_scale=False,
                                       name=f"conv_{i}")
                      for i, (f, k, s, p) in enumerate(spec)]
        # Dropout rate before convolution `index`.
        self.dropouts = {0: 0.2, 3: 0.5, 6: 0.5}
        self.noise = noise_lib.NoiseTable()
        track(self, "conv", self.convs)
        self.out = WeightNormDense(num_class, name="logits")

    def features_and_logits(self, images, training=False, draws=None):
        """`draws` (noise.Draws): where the dropout masks come from."""
        x = tf.cast(images, keras.config.floatx())
        if training and draws is None:
            draws = _default_draws(x)
        for index, conv in enumerate(self.convs):
            if training and index in self.dropouts:
                x = self.noise.dropout(x, self.dropouts[index], draws, index)
            x = tf.nn.leaky_relu(conv(x), alpha=0.2)
        features = tf.reduce_mean(x, axis=[1, 2])
        return features, self.out(features)

    def call(self, images, training=False):
        return self.features_and_logits(images, training)[1]

    def initialize(self, images, draws=None):
        """The paper's data-dependent initialization, with dropout on;
        returns the initialized logits of `images`."""
        x = tf.cast(images, keras.config.floatx())
        if draws is None:
            draws = _default_draws(x)
        for index, conv in enumerate(self.convs):
            if index in self.dropouts:
                x = self.noise.dropout(x, self.dropouts[index], draws, index)
            x = tf.nn.leaky_relu(conv.initialize(x), alpha=0.2)
        return self.out.initialize(tf.reduce_mean(x, axis=[1, 2]),
                                   scale=self.OUT_INIT_SCALE)


def half_crop(x, half=2):
    """The output of a "valid" 5x5 stride-2 transposed convolution (size
    2n + 4) cut to 2n: what Theano's 'half' padding keeps."""
    return x[:, half:-half, half:-half, :]


class ConvGenerator(keras.Model):
    """The paper's 32x32 generator: dense to 4x4x512, two 5x5 transposed
    convolutions with batch norm and ReLU, then a weight-normed transposed
    convolution to the image with tanh. Weights start at N(0, 0.05), the
    batch norms have epsilon 1e-6 (and a scale only with `bn_scale`), and the
    output layer is initialized to pre-tanh deviation OUT_INIT_SCALE."""

    STDDEV = 0.05
    BN_EPSILON = 1e-6
    OUT_INIT_SCALE = 0.1

    def __init__(self, image_shape, n_z, bn_scale=True, sync=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.n_z = tuple(image_shape), n_z
        normal = keras.initializers.RandomNormal(stddev=self.STDDEV)
        self.dense = keras.layers.Dense(4 * 4 * 512, use_bias=False,
                                        kernel_initializer=normal)
        self.norm0 = keras.layers.BatchNormalization(epsilon=self.BN_EPSILON,
                                                     scale=bn_scale,
                                                     synchronized=sync)
        # "valid" to twice the size plus 4, cut to twice the size: padded as
        # Theano's 'half' (see WeightNormConv2DTranspose), not as "same".
        self.deconvs = [keras.layers.Conv2DTranspose(
            f, 5, 2, "valid", output_padding=1, use_bias=False,
            kernel_initializer=normal) for f in (256, 128)]
        self.norms = [keras.layers.BatchNormalization(epsilon=self.BN_EPSILON,
                                                      scale=bn_scale,
                                                      synchronized=sync)
                      for _ in range(2)]
        track(self, "deconv", self.deconvs)
        track(self, "norm", self.norms)
        self.to_image = WeightNormConv2DTranspose(image_shape[-1], 5, 2,
                                                  name="to_image")

    def _hidden(self, z, training):
        x = tf.nn.relu(self.norm0(self.dense(z), training=training))
        x = tf.reshape(x, [-1, 4, 4, 512])
        for deconv, norm in zip(self.deconvs, self.norms):
            x = tf.nn.relu(norm(half_crop(deconv(x)), training=training))
        return x

    def call(self, z, training=False):
        return tf.tanh(tf.cast(self.to_image(self._hidden(z, training)),
                               keras.config.floatx()))

    def initialize(self, z):
        """The output layer's data-dependent initialization on noise `z`."""
        self.to_image.initialize(self._hidden(z, training=True),
                                 scale=self.OUT_INIT_SCALE)
