"""The labeled images' random affine warps."""

import numpy as np
import tensorflow as tf

from ssgan_tf.data import augment, pipeline


def _dot(row, col, size=9):
    image = -np.ones([1, size, size, 1], np.float32)
    image[0, row, col, 0] = 1.0
    return tf.constant(image)


def test_no_draw_is_the_identity_and_a_shift_moves_the_pixels():
    image = _dot(4, 4)
    still = augment.warp(image, augment.transforms(tf.zeros([1, 5]), 9, 9))
    np.testing.assert_array_equal(still, image)
    # shift x of +1: output pixel x reads input pixel x + 1, so the dot moves
    # one column left, and the column coming in is the background.
    draws = tf.constant([[0.0, 0.0, 0.0, 1.0 / augment.MAX_SHIFT, 0.0]])
    moved = augment.warp(image, augment.transforms(draws, 9, 9)).numpy()
    assert moved[0, 4, 3, 0] == 1.0 and moved[0, 4, 4, 0] == -1.0
    assert (moved[0, :, -1, 0] == -1.0).all()


def test_a_quarter_turn_about_the_centre():
    image = _dot(1, 4)  # above the centre (4, 4): x 4, y 1
    draws = tf.constant([[np.pi / 2 / augment.MAX_ROTATION, 0, 0, 0, 0]],
                        tf.float32)
    turned = augment.warp(image, augment.transforms(draws, 9, 9)).numpy()
    row, col = np.unravel_index(np.argmax(turned[0, ..., 0]), (9, 9))
    # output (x, y) reads input (cx - (y - cy), cy + (x - cx)): (1, 4) -> (4, 1)
    assert (row, col) == (4, 1) and turned.max() > 0.99


def test_draws_are_a_function_of_seed_and_step_one_per_row():
    a = augment.draw(1, 5, 4).numpy()
    np.testing.assert_array_equal(a, augment.draw(1, 5, 4))
    assert not np.array_equal(a, augment.draw(1, 6, 4))
    assert not np.array_equal(a, augment.draw(2, 5, 4))
    assert len({tuple(row) for row in a}) == 4
    assert a.min() >= -1.0 and a.max() < 1.0


def test_the_pipeline_warps_the_labeled_batch_only():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, [12, 8, 8, 1]).astype(np.uint8)
    labels = np.arange(12) % 3
    labeled = np.array([0, 4, 8])
    plain = next(iter(pipeline.train_stream(images, labels, labeled, 3, 0)))
    warped = next(iter(pipeline.train_stream(images, labels, labeled, 3, 0,
                                             augment_labeled=True)))
    np.testing.assert_array_equal(plain["label"], warped["label"])
    np.testing.assert_array_equal(plain["unlabeled"], warped["unlabeled"])
    assert not np.allclose(plain["image"], warped["image"])
    stream = pipeline.train_stream(images, labels, labeled, 3, 0,
                                   augment_labeled=True)
    assert stream.element_spec["image"].shape.as_list()[1:] == [8, 8, 1]
    np.testing.assert_allclose(
        warped["image"], augment.augment(plain["image"], 0, 0), atol=1e-6)
