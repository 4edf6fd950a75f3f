"""Image files and arrays fitted to a model's size: one function for
conversion and prediction."""

import numpy as np
import pytest
from PIL import Image

from ssgan_tf import fit_image
from ssgan_tf.data import images as images_lib
from ssgan_tf.errors import UserError


def test_fit_scales_to_cover_and_cuts_out_the_centre():
    rng = np.random.RandomState(0)
    wide = rng.randint(0, 256, (10, 40, 3)).astype(np.uint8)  # h 10, w 40
    fitted = np.asarray(images_lib.fit(Image.fromarray(wide), (5, 8)))
    # scaled by 1/2 to 5 x 20 (covers 5 x 8), then columns 6..14 kept
    scaled = np.asarray(Image.fromarray(wide).resize((20, 5), Image.BILINEAR))
    np.testing.assert_array_equal(fitted, scaled[:, 6:14])
    tall = rng.randint(0, 256, (30, 6)).astype(np.uint8)
    fitted = np.asarray(images_lib.fit(Image.fromarray(tall), (4, 4)))
    scaled = np.asarray(Image.fromarray(tall).resize((4, 20), Image.BILINEAR))
    np.testing.assert_array_equal(fitted, scaled[8:12])
    same = Image.fromarray(tall)
    assert images_lib.fit(same, (30, 6)) is same


@pytest.mark.parametrize("shape", [(9, 14), (9, 14, 1), (9, 14, 3)])
def test_fit_image_takes_grey_and_colour_arrays(shape):
    array = np.random.RandomState(1).randint(0, 256, shape).astype(np.uint8)
    for channels in (1, 3):
        fitted = fit_image(array, (6, 6, channels))
        assert fitted.shape == (6, 6, channels) and fitted.dtype == np.uint8
    pil = Image.fromarray(array if len(shape) == 2 or shape[2] == 3
                          else array[..., 0])
    np.testing.assert_array_equal(fit_image(pil, (6, 6, 3)),
                                  fit_image(array, (6, 6, 3)))


def test_a_file_read_with_resize_equals_the_fitted_array(tmp_path):
    array = np.random.RandomState(2).randint(0, 256, (11, 17, 3)).astype(
        np.uint8)
    Image.fromarray(array).save(tmp_path / "a.png")
    np.testing.assert_array_equal(
        images_lib.read_image(str(tmp_path / "a.png"), (8, 8, 3), resize=True),
        fit_image(array, (8, 8, 3)))
    with pytest.raises(UserError, match="--resize"):
        images_lib.read_image(str(tmp_path / "a.png"), (8, 8, 3))


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.float32),
                                 np.zeros((4, 4, 2), np.uint8),
                                 np.zeros((2, 4, 4, 1), np.uint8)])
def test_what_is_not_an_image_is_refused(bad):
    with pytest.raises(UserError, match="uint8"):
        fit_image(bad, (4, 4, 1))
