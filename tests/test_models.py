"""The original networks: shapes, ranges, any (h, w, c, N), a batch of one."""

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf.models import improved_gan, layers, original


@pytest.mark.parametrize("shape, num_class", [((28, 28, 1), 10),
                                              ((32, 32, 3), 10),
                                              ((20, 24, 1), 3),
                                              ((64, 48, 3), 5)])
@pytest.mark.parametrize("batch", [1, 3])
def test_shapes_and_ranges(shape, num_class, batch):
    generator = original.Generator(shape, 16)
    discriminator = original.Discriminator(shape, num_class)
    z = tf.random.uniform([batch, 16], -1, 1, seed=1)
    for training in (True, False):
        images = generator(z, training=training)
        assert images.shape == (batch,) + shape
        assert float(tf.reduce_min(images)) >= -1.0
        assert float(tf.reduce_max(images)) <= 1.0
        logits = discriminator(images, training=training)
        assert logits.shape == (batch, num_class + 1)
        assert np.isfinite(logits.numpy()).all()


@pytest.mark.parametrize("deconv_type", ["bilinear", "nn", "transpose"])
@pytest.mark.parametrize("norm_type", ["batch", "instance", "none"])
def test_every_upsampling_and_norm(deconv_type, norm_type):
    generator = original.Generator((28, 28, 1), 8, norm_type, deconv_type)
    images = generator(tf.random.uniform([2, 8], -1, 1), training=False)
    assert images.shape == (2, 28, 28, 1)
    assert float(tf.math.reduce_std(images)) > 0.0  # not a constant image


def test_block_counts_and_widths_follow_the_original():
    generator = original.Generator((28, 28, 1), 8)
    assert len(generator.blocks) == 5  # ceil(log2 28)
    discriminator = original.Discriminator((20, 24, 1), 3)
    assert len(discriminator.blocks) == 5  # ceil(log2 20)
    discriminator(tf.zeros([1, 20, 24, 1]))
    widths = [block.conv.filters for block in discriminator.blocks]
    assert widths == [32, 64, 128, 256, 256]
    assert discriminator.reduce.filters == 64  # a quarter of the last width
    big = original.Discriminator((256, 256, 3), 2)
    assert [b.conv.filters for b in big.blocks] == [32, 64, 128, 256, 256, 512,
                                                    512, 512]
    channels = [block.conv.filters for block in generator.blocks]
    assert channels == [512, 256, 128, 64, 32]


def test_generator_channels_never_below_c():
    generator = original.Generator((2048, 2048, 3), 4)
    assert [b.conv.filters for b in generator.blocks][-3:] == [3, 3, 3]


@pytest.mark.parametrize("deconv_type", ["bilinear", "nn"])
@pytest.mark.parametrize("norm_type", ["none", "batch"])
def test_first_up_block_equals_the_conv_of_the_upsampled_pixel(deconv_type,
                                                               norm_type):
    """The generator's first block computes its conv of the resized 1x1 map
    as one matrix product: the same outputs, and the same gradients for
    the kernel, bias and input, as the direct conv of the upsampled map."""
    block = layers.UpBlock(6, deconv_type, norm_type)
    rng = np.random.RandomState(0)
    pixel = tf.constant(rng.randn(3, 1, 1, 5), tf.float32)
    block(pixel)
    block.conv.kernel.assign(rng.randn(3, 3, 5, 6))  # every tap distinct
    if block.conv.use_bias:
        block.conv.bias.assign(rng.randn(6))
    cotangent = tf.constant(rng.randn(3, 2, 2, 6), tf.float32)

    def outputs_and_gradients(direct):
        with tf.GradientTape() as tape:
            tape.watch(pixel)
            conv = block.conv(block.upsample(pixel)) if direct else \
                block._conv_of_constant(pixel)
            loss = tf.reduce_sum(conv * cotangent)
        return [conv] + tape.gradient(loss, [pixel] + block.conv.weights)

    assert block._from_one_pixel(pixel)
    fast, direct = outputs_and_gradients(False), outputs_and_gradients(True)
    assert len(fast) == (4 if block.conv.use_bias else 3)
    for got, want in zip(fast, direct):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5,
                                   atol=1e-5)
    # and the block as a whole takes that path
    np.testing.assert_allclose(
        block(pixel).numpy(),
        tf.nn.relu(block.norm(direct[0])).numpy(), rtol=1e-5, atol=1e-5)


def test_only_a_resized_one_pixel_map_takes_the_matrix_product():
    assert not layers.UpBlock(4, "bilinear", "none")._from_one_pixel(
        tf.zeros([2, 2, 2, 3]))
    transposed = layers.UpBlock(4, "transpose", "none")
    assert not transposed._from_one_pixel(tf.zeros([2, 1, 1, 3]))
    assert transposed(tf.zeros([2, 1, 1, 3])).shape == (2, 2, 2, 4)


def test_instance_norm_normalizes_each_channel():
    x = tf.random.normal([2, 5, 5, 3]) * 4.0 + 7.0
    y = layers.InstanceNorm()(x)
    mean, variance = tf.nn.moments(y, axes=[1, 2])
    np.testing.assert_allclose(mean.numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(variance.numpy(), 1.0, atol=1e-2)


def test_weight_norm_initialization_standardizes_pre_activations():
    inputs = tf.random.normal([256, 12], seed=3) * 3.0 + 1.5
    dense = layers.WeightNormDense(5)
    out = dense.initialize(inputs)
    mean, variance = tf.nn.moments(out, axes=[0])
    np.testing.assert_allclose(mean.numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(variance.numpy(), 1.0, atol=1e-3)
    conv = layers.WeightNormConv2D(4, 3)
    out = conv.initialize(tf.random.uniform([8, 6, 6, 2], seed=4))
    mean, variance = tf.nn.moments(out, axes=[0, 1, 2])
    np.testing.assert_allclose(mean.numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(variance.numpy(), 1.0, atol=1e-3)


def test_weight_norm_kernel_has_norm_g():
    dense = layers.WeightNormDense(3)
    dense.build((None, 4))
    dense.g.assign([1.0, 2.0, 3.0])
    norms = tf.norm(dense._normalized_kernel(), axis=0)
    np.testing.assert_allclose(norms.numpy(), [1.0, 2.0, 3.0], rtol=1e-6)


def test_weight_norm_layers_compute_with_the_normalized_kernel():
    """The layers scale their outputs by g / ||v|| instead of building
    g v / ||v||: outputs and gradients must be those of the kernel form."""
    rng = np.random.RandomState(0)
    cases = [(layers.WeightNormDense(3), rng.randn(5, 4),
              lambda x, w: x @ w),
             (layers.WeightNormConv2D(3, 3, strides=2), rng.randn(2, 5, 5, 2),
              lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"))]
    for layer, x, reference in cases:
        x = tf.constant(x, tf.float32)
        layer.build(x.shape)
        layer.v.assign(rng.randn(*layer.v.shape) * 0.3)
        layer.g.assign([0.5, 2.0, 3.0])
        layer.b.assign([0.1, -0.2, 0.3])
        v = layer.v.numpy()
        norms = np.sqrt((v ** 2).reshape(-1, 3).sum(axis=0))
        kernel = v / norms * np.array([0.5, 2.0, 3.0])  # by hand
        np.testing.assert_allclose(
            layer(x).numpy(),
            reference(x, tf.constant(kernel, tf.float32)).numpy() +
            [0.1, -0.2, 0.3], rtol=1e-5, atol=1e-5)
        weights = [layer.v, layer.g]
        with tf.GradientTape(persistent=True) as tape:
            ours = tf.reduce_sum(tf.sin(layer(x)))
            axes = list(range(len(v.shape) - 1))
            kernel_form = layer.g * layer.v / tf.sqrt(
                tf.reduce_sum(tf.square(layer.v), axis=axes))
            theirs = tf.reduce_sum(tf.sin(reference(x, kernel_form) +
                                          layer.b))
        for ours_grad, their_grad in zip(tape.gradient(ours, weights),
                                         tape.gradient(theirs, weights)):
            np.testing.assert_allclose(ours_grad.numpy(), their_grad.numpy(),
                                       rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_paper_networks(shape):
    from ssgan_tf.models import improved_gan
    generator, discriminator = improved_gan.build(shape, 10, 100)
    images = generator(tf.random.uniform([3, 100]), training=True)
    assert images.shape == (3,) + shape
    assert float(tf.reduce_min(images)) >= -1 and float(tf.reduce_max(images)) <= 1
    features, logits = discriminator.features_and_logits(images, training=True)
    assert logits.shape == (3, 10)
    assert features.shape[0] == 3 and features.shape[1] in (250, 192)


def test_weight_norm_direction_deviation_is_a_parameter():
    default = layers.WeightNormDense(400)
    wide = layers.WeightNormDense(400, init_stddev=0.1)
    for layer in (default, wide):
        layer.build((None, 300))
    assert np.std(default.v.numpy()) == pytest.approx(0.05, rel=0.02)
    assert np.std(wide.v.numpy()) == pytest.approx(0.1, rel=0.02)


def test_mnist_discriminator_directions_start_at_the_papers_deviation():
    """The paper's MNIST code: theta ~ N(0, 0.1) in every dense layer."""
    from ssgan_tf.models import improved_gan
    _, discriminator = improved_gan.build((28, 28, 1), 10, 100)
    discriminator(tf.zeros([1, 28, 28, 1]))
    for layer in discriminator.hidden + [discriminator.out]:
        assert np.std(layer.v.numpy()) == pytest.approx(0.1, rel=0.05), \
            layer.name


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_generator_batch_norm_scale_is_optional(shape):
    from ssgan_tf.models import improved_gan
    counts = {}
    for scale in (True, False):
        generator, _ = improved_gan.build(shape, 10, 100, g_bn_scale=scale)
        generator(tf.zeros([2, 100]))
        norms = [layer for layer in generator._flatten_layers()
                 if isinstance(layer, tf.keras.layers.BatchNormalization)]
        assert norms and all(norm.scale == scale for norm in norms)
        counts[scale] = len(generator.trainable_variables)
    assert counts[True] - counts[False] == len(norms)  # one gamma per norm


def test_mnist_discriminator_data_dependent_initialization():
    """`data` standardizes each layer's pre-activations on the batch (here
    with the noise off, so the check is exact); `unit` leaves g at 1."""
    from ssgan_tf.models import improved_gan
    images = tf.constant(np.random.RandomState(0).uniform(
        -1, 1, (64, 28, 28, 1)), tf.float32)
    unit = improved_gan.MlpDiscriminator((28, 28, 1), 10, init="unit")
    unit(images)
    unit.initialize(images)
    for layer in unit.hidden + [unit.out]:
        np.testing.assert_array_equal(layer.g.numpy(), 1.0)
    data = improved_gan.MlpDiscriminator((28, 28, 1), 10, init="data")
    data.INPUT_NOISE = data.HIDDEN_NOISE = 0.0
    data(images)
    data.initialize(images)
    x = (tf.reshape(images, [-1, 784]) + 1) / 2
    for layer in data.hidden + [data.out]:
        pre = layer(x).numpy()
        np.testing.assert_allclose(pre.mean(0), 0.0, atol=1e-4)
        np.testing.assert_allclose(pre.std(0), 1.0, rtol=1e-3)
        x = tf.nn.relu(pre)
    with pytest.raises(ValueError, match="initialization"):
        improved_gan.MlpDiscriminator((28, 28, 1), 10, init="normal")


def test_sgan_networks():
    from ssgan_tf.models import sgan
    generator = sgan.Generator((28, 28, 1), 16)
    discriminator = sgan.Discriminator((28, 28, 1), 10)
    images = generator(tf.random.uniform([2, 16]), training=True)
    assert images.shape == (2, 28, 28, 1)
    assert discriminator(images).shape == (2, 11)  # 10 classes + real/fake


@pytest.mark.parametrize("model, shape", [("original", (12, 12, 1)),
                                          ("improved_gan", (28, 28, 1)),
                                          ("improved_gan", (32, 32, 3)),
                                          ("sgan", (28, 28, 1))])
def test_a_checkpoint_of_a_network_alone_holds_every_weight(tmp_path, model,
                                                           shape):
    from ssgan_tf import models
    def built():
        generator, discriminator = models.build(model, shape, 10, 16)
        generator(tf.zeros([2, 16]))
        discriminator(tf.zeros((2,) + shape))
        return generator, discriminator
    saved = built()
    prefix = tf.train.Checkpoint(generator=saved[0],
                                 discriminator=saved[1]).save(
        str(tmp_path / "ckpt"))
    fresh = built()
    tf.train.Checkpoint(generator=fresh[0], discriminator=fresh[1]).restore(
        prefix).assert_consumed()
    for old, new in zip(saved, fresh):
        assert len(old.weights) == len(new.weights)
        for a, b in zip(old.weights, new.weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def centre_tap(shape):
    """A kernel [k, k, a, b] that is 1 at its centre, 0 elsewhere."""
    kernel = np.zeros(shape, np.float32)
    kernel[shape[0] // 2, shape[1] // 2] = 1.0
    return kernel


def impulse(size, row, column):
    image = np.zeros([1, size, size, 1], np.float32)
    image[0, row, column, 0] = 1.0
    return tf.constant(image)


def peak(output):
    output = np.asarray(output)[0, ..., 0]
    return tuple(int(i) for i in np.unravel_index(np.argmax(output),
                                                  output.shape)), output.max()


def test_stride_2_layers_are_padded_as_the_papers_theano_code():
    """Theano's pad=1 / 'half': output pixel i of a stride-2 convolution
    sits over input pixel 2i, and input pixel i of a transposed one lands
    on output pixel 2i; TensorFlow's "same" shifts both by one."""
    conv = layers.WeightNormConv2D(1, 3, strides=2, padding=1)
    conv.build((None, 32, 32, 1))
    conv.v.assign(centre_tap(conv.v.shape))
    out = conv(impulse(32, 10, 6))
    assert out.shape == (1, 16, 16, 1)
    assert peak(out) == ((5, 3), pytest.approx(1.0))
    # "same" misses the impulse with its centre tap altogether
    same = tf.nn.conv2d(impulse(32, 10, 6), centre_tap([3, 3, 1, 1]), 2,
                        "SAME")
    assert float(tf.reduce_max(same)) == 0.0

    up = layers.WeightNormConv2DTranspose(1, 5, 2)
    up.build((None, 16, 16, 1))
    up.v.assign(centre_tap(up.v.shape))
    out = up(impulse(16, 3, 5))
    assert out.shape == (1, 32, 32, 1)
    assert peak(out) == ((6, 10), pytest.approx(1.0))

    # the generator's batch-normed transposed convolutions: "valid", cut
    deconv = tf.keras.layers.Conv2DTranspose(1, 5, 2, "valid",
                                             output_padding=1, use_bias=False)
    deconv.build((None, 4, 4, 1))
    deconv.kernel.assign(centre_tap(deconv.kernel.shape))
    out = improved_gan.half_crop(deconv(impulse(4, 1, 3)))
    assert out.shape == (1, 8, 8, 1)
    assert peak(out) == ((2, 6), pytest.approx(1.0))
    same = tf.nn.conv2d_transpose(impulse(4, 1, 3), centre_tap([5, 5, 1, 1]),
                                  [1, 8, 8, 1], 2, "SAME")
    assert peak(same)[0] == (3, 7)


def test_the_32x32_networks_keep_their_shapes():
    generator, discriminator = improved_gan.build((32, 32, 3), 10, 100)
    images = generator(tf.random.uniform([2, 100], -1, 1))
    assert images.shape == (2, 32, 32, 3)
    features, logits = discriminator.features_and_logits(images)
    assert features.shape == (2, 192) and logits.shape == (2, 10)
