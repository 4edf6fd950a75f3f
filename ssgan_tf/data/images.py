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


def read_image(path: str, shape: Tuple[int, int, int],
               resize: bool = False) -> np.ndarray:
    """The image at `path` as uint8 [h, w, c] of `shape`: converted to grey
    or RGB as `shape` has 1 or 3 channels; another size is an error unless
    `resize` (bilinear, aspect not kept)."""
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
                image = image.resize((width, height), Image.BILINEAR)
            array = np.asarray(image, np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise UserError(f"{path}: not a readable image ({e})") from None
    return array.reshape(height, width, channels)
