"""Small random affine warps of a batch of images (rotation, shear, zoom,
shift), each example's drawn statelessly from (seed, step, its row in the
global batch), so a resumed run and k replicas warp alike."""

import math

import tensorflow as tf

AUGMENT_STREAM = 3  # beside the data streams' numbers (pipeline.py)
MAX_ROTATION = math.radians(15.0)
MAX_SHEAR = 0.25
MAX_ZOOM = 0.1
MAX_SHIFT = 2.0  # pixels


def draw(seed, step, batch_size):
    """[batch, 5] uniform draws in [-1, 1): rotation, shear, zoom, shift x, y."""
    key = tf.random.experimental.stateless_fold_in(
        tf.stack([tf.constant(seed, tf.int64), tf.cast(step, tf.int64)]),
        AUGMENT_STREAM, alg="philox")
    return tf.random.stateless_uniform([batch_size, 5], key, minval=-1.0,
                                       maxval=1.0, alg="philox")


def transforms(draws, height, width):
    """Projective transforms [batch, 8] (output pixel -> input pixel, as
    ImageProjectiveTransform reads them) about the image centre."""
    angle = draws[:, 0] * MAX_ROTATION
    shear = draws[:, 1] * MAX_SHEAR
    zoom = 1.0 + draws[:, 2] * MAX_ZOOM
    shift_x, shift_y = draws[:, 3] * MAX_SHIFT, draws[:, 4] * MAX_SHIFT
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    # A = rotation @ [[1, shear], [0, 1]] / zoom
    a00, a01 = cos, cos * shear - sin
    a10, a11 = sin, sin * shear + cos
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    zeros = tf.zeros_like(angle)
    return tf.stack([a00, a01, cx - a00 * cx - a01 * cy + shift_x,
                     a10, a11, cy - a10 * cx - a11 * cy + shift_y,
                     zeros, zeros], axis=1)


def warp(images, transform, fill_value=-1.0):
    """`images` [batch, h, w, c] (float) resampled bilinearly through
    `transform` [batch, 8]; pixels from outside the image get `fill_value`."""
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=tf.cast(transform, tf.float32),
        output_shape=tf.shape(images)[1:3],
        fill_value=tf.cast(fill_value, tf.float32), interpolation="BILINEAR",
        fill_mode="CONSTANT")
    return tf.ensure_shape(warped, images.shape)  # the op forgets h and w


def augment(images, seed, step):
    """A random affine warp of each image of a global batch (scaled to
    [-1, 1]: the background, -1, fills what moves in)."""
    height, width = images.shape[1], images.shape[2]
    draws = draw(seed, step, tf.shape(images)[0])
    return warp(images, transforms(draws, height, width))
