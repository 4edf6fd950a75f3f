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


def has_norm(norm_type):
    """Whether `norm_type` normalizes: a bias in front of it is then
    redundant (its gradient is zero up to rounding, which Adam would turn into
    lr-sized random steps), so the layers before a norm have none."""
    return norm_type not in ("none", "None")


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
        self.resizes = deconv_type in ("bilinear", "nn")  # then a 3x3 conv
        if self.resizes:
            interpolation = "bilinear" if deconv_type == "bilinear" else "nearest"
            self.upsample = keras.layers.UpSampling2D(2,
                                                      interpolation=interpolation)
            self.conv = keras.layers.Conv2D(channels, 3, padding="same",
                                            use_bias=not has_norm(norm_type))
        elif deconv_type == "transpose":
            self.upsample = Identity()
            self.conv = keras.layers.Conv2DTranspose(
                channels, 3, strides=2, padding="same",
                use_bias=not has_norm(norm_type))
        else:
            raise ValueError(f"unknown deconv_type {deconv_type!r}")
        self.norm = norm_layer(norm_type, sync)

    def build(self, input_shape):
        # The conv's kernel depends on the channels alone; built here, since
        # the first block may never call the conv itself (below).
        self.conv.build((None, None, None, input_shape[-1]))
        self.norm.build((None, None, None, self.conv.filters))
        self.built = True

    def call(self, inputs, training=False):
        if self._from_one_pixel(inputs):
            x = self._conv_of_constant(inputs)
        else:
            x = self.conv(self.upsample(inputs))
        return tf.nn.relu(self.norm(x, training=training))

    def _from_one_pixel(self, inputs):
        """Whether the block doubles a 1x1 map (the generator's first block)
        by resizing: every pixel of the 2x2 map the conv sees is then the
        input pixel itself, whatever the interpolation."""
        return self.resizes and inputs.shape[1] == 1 and inputs.shape[2] == 1

    def _conv_of_constant(self, inputs):
        """The 3x3 `same` conv of a constant 2x2 map, computed exactly as one
        matrix product: output pixel (i, j) sees the input through the kernel
        taps that land inside the map (rows 1-2 of the kernel for i = 0, rows
        0-1 for i = 1; columns alike), so its weights are the sum of those
        four taps. The same function of the same kernel as the direct conv,
        with a ninth of its arithmetic."""
        kernel = tf.cast(self.conv.kernel, inputs.dtype)  # [3, 3, c_in, c_out]
        # taps[i, k] = 1 where kernel row k reaches output row i: the sums are
        # matrix products, whose gradient is one more (slicing the kernel
        # instead cost a kernel-sized gradient per slice).
        taps = tf.constant([[0, 1, 1], [1, 1, 0]], inputs.dtype)
        rows = tf.tensordot(taps, kernel, axes=[[1], [0]])  # [i, l, in, out]
        weights = tf.tensordot(taps, rows, axes=[[1], [1]])  # [j, i, in, out]
        channels_in, channels_out = kernel.shape[2], kernel.shape[3]
        matrix = tf.reshape(tf.transpose(weights, [2, 1, 0, 3]),
                            [channels_in, 4 * channels_out])
        x = tf.reshape(tf.matmul(tf.reshape(inputs, [-1, channels_in]),
                                 matrix), [-1, 2, 2, channels_out])
        if self.conv.use_bias:
            x = x + tf.cast(self.conv.bias, x.dtype)
        return x


class DownBlock(keras.layers.Layer):
    """A stride-2 3x3 conv, the norm, leaky ReLU 0.2."""

    def __init__(self, channels, norm_type, sync=False, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(channels, 3, strides=2, padding="same",
                                        use_bias=not has_norm(norm_type))
        self.norm = norm_layer(norm_type, sync)

    def call(self, inputs, training=False):
        return tf.nn.leaky_relu(self.norm(self.conv(inputs), training=training),
                                alpha=0.2)


class _WeightNorm(keras.layers.Layer):
    """Weight normalization (Salimans & Kingma 2016): w = g * v / ||v||, one g
    per output unit, with the paper's data-dependent initialization:
    `initialize(x, scale)` sets g and b so that the pre-activations on x have
    zero mean and deviation `scale` (1 unless given) per unit.

    The layer scales its outputs, not its kernel: x (*) (g v / ||v||) equals
    (x (*) v) * g / ||v|| for a matmul or a convolution, and the right side
    never builds the normalized kernel, saving the kernel-sized passes of
    building it and of differentiating through it.
    """

    OUTPUT_AXIS = -1  # the axis of v that indexes the output units

    def _inverse_norm(self):
        """1 / ||v|| per output unit (the l2 norm over all other axes)."""
        rank = len(self.v.shape)
        axes = [a for a in range(rank) if a != self.OUTPUT_AXIS % rank]
        return tf.math.rsqrt(tf.maximum(
            tf.reduce_sum(tf.square(self.v), axis=axes), 1e-12))

    def _normalized_kernel(self):
        """g v / ||v||: what the layer multiplies by (for inspection)."""
        return self.v * (self.g * self._inverse_norm())

    def _linear(self, inputs, kernel):
        raise NotImplementedError

    def call(self, inputs):
        scale = self.g * self._inverse_norm()
        return self._linear(tf.cast(inputs, self.v.dtype), self.v) * scale \
            + self.b

    def initialize(self, inputs, scale=1.0):
        """Sets g, b from `inputs` so that the outputs have zero mean and
        deviation `scale` per unit; returns the initialized outputs."""
        if not self.built:
            self.build(inputs.shape)
        pre = self._linear(tf.cast(inputs, self.v.dtype), self.v) * \
            self._inverse_norm()
        moment_axes = list(range(len(pre.shape) - 1))
        mean, variance = tf.nn.moments(pre, axes=moment_axes)
        gain = scale * tf.math.rsqrt(variance + 1e-8)
        self.g.assign(gain)
        self.b.assign(-mean * gain)
        return self(inputs)


class WeightNormDense(_WeightNorm):
    """A weight-normalized dense layer.

    Args:
      units: output size.
      train_scale: whether g is trained after its initialization; the paper's
        MNIST discriminator trains it only in the output layer, which keeps the
        hidden features (and so feature matching) from growing without bound.
      init_stddev: the deviation of v's initial N(0, s^2) entries. The output
        does not depend on ||v||, but Adam moves each entry by about the
        learning rate whatever the gradient's size, so a row turns by up to
        about lr / s radians per step: s sets how fast the layer learns.
    """

    def __init__(self, units, train_scale=True, init_stddev=0.05, **kwargs):
        super().__init__(**kwargs)
        self.units, self.train_scale = units, train_scale
        self.init_stddev = init_stddev

    def build(self, input_shape):
        self.v = self.add_weight(name="v", shape=(int(input_shape[-1]),
                                                  self.units),
                                 initializer=keras.initializers.RandomNormal(
                                     stddev=self.init_stddev))
        self.g = self.add_weight(name="g", shape=(self.units,),
                                 initializer="ones",
                                 trainable=self.train_scale)
        self.b = self.add_weight(name="b", shape=(self.units,),
                                 initializer="zeros")

    def _linear(self, inputs, kernel):
        return tf.matmul(inputs, kernel)


class WeightNormConv2D(_WeightNorm):
    """A weight-normalized convolution; `train_scale` as WeightNormDense.
    `padding`: "same", "valid", or a number of rows and columns to pad on
    every side (Theano's `pad=1`: with a stride of 2, TensorFlow's "same"
    pads only after, which shifts every output by a pixel)."""

    def __init__(self, filters, kernel_size, strides=1, padding="same",
                 train_scale=True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size
        self.strides = strides
        self.padding = [[0, 0], [padding, padding], [padding, padding],
                        [0, 0]] if isinstance(padding, int) else \
            padding.upper()
        self.train_scale = train_scale

    def build(self, input_shape):
        shape = (self.kernel_size, self.kernel_size, int(input_shape[-1]),
                 self.filters)
        self.v = self.add_weight(name="v", shape=shape,
                                 initializer=keras.initializers.RandomNormal(
                                     stddev=0.05))
        self.g = self.add_weight(name="g", shape=(self.filters,),
                                 initializer="ones",
                                 trainable=self.train_scale)
        self.b = self.add_weight(name="b", shape=(self.filters,),
                                 initializer="zeros")

    def _linear(self, inputs, kernel):
        return tf.nn.conv2d(inputs, kernel, self.strides, self.padding)


class WeightNormConv2DTranspose(_WeightNorm):
    """A weight-normalized transposed convolution to `strides` times the
    input's size, as the paper's 32x32 generator ends: v is [k, k, filters,
    inputs]. Padded as Theano's 'half' (k // 2 on every side of the
    convolution it transposes), so input pixel i lands on output pixel
    strides * i; TensorFlow's "same" would put it one pixel further."""

    OUTPUT_AXIS = 2

    def __init__(self, filters, kernel_size, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = (filters, kernel_size,
                                                        strides)

    def build(self, input_shape):
        shape = (self.kernel_size, self.kernel_size, self.filters,
                 int(input_shape[-1]))
        self.v = self.add_weight(name="v", shape=shape,
                                 initializer=keras.initializers.RandomNormal(
                                     stddev=0.05))
        self.g = self.add_weight(name="g", shape=(self.filters,),
                                 initializer="ones")
        self.b = self.add_weight(name="b", shape=(self.filters,),
                                 initializer="zeros")

    def _linear(self, inputs, kernel):
        shape = tf.shape(inputs)
        output_shape = tf.stack([shape[0], shape[1] * self.strides,
                                 shape[2] * self.strides, self.filters])
        half = self.kernel_size // 2
        outputs = tf.nn.conv2d_transpose(
            inputs, kernel, output_shape, self.strides,
            padding=[[0, 0], [half, half], [half, half], [0, 0]])
        height, width = inputs.shape[1], inputs.shape[2]
        outputs.set_shape([None, height and height * self.strides,
                           width and width * self.strides, self.filters])
        return outputs


def track(owner, prefix, items):
    """Makes layers kept in a Python list visible to tf.train.Checkpoint.

    Keras 3 tracks list attributes for itself but not as TensorFlow
    checkpoint children, so a checkpoint of the model alone would miss their
    weights (a run's optimizers still reach the trainable ones, an averaged
    discriminator would be lost). Each item also becomes the attribute
    `<prefix>_<index>`.
    """
    for index, item in enumerate(items):
        setattr(owner, f"{prefix}_{index}", item)
    return items
