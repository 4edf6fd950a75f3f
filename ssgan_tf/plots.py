"""Pictures: sample grids, the training GIF, loss curves, the confusion matrix.

Reads only what training wrote (images, event files, eval JSON). Also a CLI:
    python -m ssgan_tf.plots RUN_FOLDER     # curves.png and training.gif
"""

import math
import os

import numpy as np


def _pyplot():
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    return plt


def grid(images: np.ndarray) -> np.ndarray:
    """Images in [-1, 1], [n, h, w, c] -> one uint8 mosaic [H, W, c] (1 px gaps)."""
    images = np.asarray(images, np.float32)
    count, height, width, channels = images.shape
    columns = int(math.ceil(math.sqrt(count)))
    rows = int(math.ceil(count / columns))
    mosaic = np.zeros((rows * (height + 1) + 1, columns * (width + 1) + 1,
                       channels), np.uint8)
    pixels = np.clip((images + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = 1 + row * (height + 1), 1 + column * (width + 1)
        mosaic[top:top + height, left:left + width] = pixels[index]
    return mosaic


def save_sample_grid(images: np.ndarray, path: str, scale: int = 3):
    """A PNG grid of generated images (each pixel `scale` x `scale`)."""
    mosaic = grid(images)
    mosaic = np.repeat(np.repeat(mosaic, scale, axis=0), scale, axis=1)
    plt = _pyplot()
    if mosaic.shape[-1] == 1:
        plt.imsave(path, mosaic[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        plt.imsave(path, mosaic)
