"""Image files a user hands over (PNG / JPEG): found, read, converted to a
run's channel count and size."""

import os
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from ssgan_tf.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def find_images(paths: Sequence[str], flag: str = "--predict") -> List[str]:
    """Image files of `paths`, each a file or a folder (its images at any
    depth, in sorted order); a missing path or a folder without images is an
    error naming it."""
    found = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            inside = sorted(
                os.path.join(folder, name)
                for folder, _, names in os.walk(path) for name in names
                if name.lower().endswith(IMAGE_EXTENSIONS)
                and not name.startswith("."))
            if not inside:
                raise UserError(f"{flag} {path}: the folder holds no PNG or "
                                f"JPEG image")
            found.extend(inside)
        else:
            raise UserError(f"{flag} {path}: no such file or folder")
    return found


def fit(image: Image.Image, size: Tuple[int, int]) -> Image.Image:
    """The image scaled to cover `size` (height, width) with its aspect kept,
    then its centre cut out: how every image of another size is made to fit,
    in conversion (--from_folder --image_size) and prediction alike."""
    height, width = size
    if image.size == (width, height):
        return image
    scale = max(width / image.size[0], height / image.size[1])
    scaled = (max(width, round(image.size[0] * scale)),
              max(height, round(image.size[1] * scale)))
    image = image.resize(scaled, Image.BILINEAR)
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return image.crop((left, top, left + width, top + height))


def fit_array(image, shape: Tuple[int, int, int]) -> np.ndarray:
    """`fit` for an image given as an array (uint8 [h, w], [h, w, 1] or
    [h, w, 3]) or a PIL image: uint8 of `shape`, grey or RGB as its channels
    say."""
    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim not in (2, 3) or (
                array.ndim == 3 and array.shape[2] not in (1, 3)):
            raise UserError(f"an image must be uint8 [h, w], [h, w, 1] or "
                            f"[h, w, 3], got {array.dtype} {list(array.shape)}")
        image = Image.fromarray(array[..., 0] if array.ndim == 3
                                and array.shape[2] == 1 else array)
    height, width, channels = shape
    image = fit(image.convert("L" if channels == 1 else "RGB"),
                (height, width))
    return np.asarray(image, np.uint8).reshape(shape)


def read_image(path: str, shape: Tuple[int, int, int],
               resize: bool = False) -> np.ndarray:
    """The image at `path` as uint8 [h, w, c] of `shape`: converted to grey
    or RGB as `shape` has 1 or 3 channels; another size is an error unless
    `resize` (then it is fitted, as `fit` says)."""
    height, width, channels = shape
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if image.size != (width, height):
                if not resize:
                    raise UserError(
                        f"{path}: image is {image.size[1]}x{image.size[0]}, "
                        f"the model takes {height}x{width}; pass --resize to "
                        f"resize it")
                image = fit(image, (height, width))
            array = np.asarray(image, np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise UserError(f"{path}: not a readable image ({e})") from None
    return array.reshape(height, width, channels)
