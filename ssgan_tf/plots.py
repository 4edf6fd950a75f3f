"""Pictures: sample grids, the training GIF, loss curves, the confusion matrix.

Reads only what training wrote (images, event files, eval JSON). Also a CLI:
    python -m ssgan_tf.plots RUN_FOLDER     # curves.png and training.gif
"""

import argparse
import glob
import json
import math
import os
import sys

import numpy as np
import tensorflow as tf
from PIL import Image

from ssgan_tf import files


def _pyplot():
    # Imported when drawing, not with the module: choosing the Agg backend
    # at import would change a notebook's plotting.
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
    with files.atomic_path(path) as tmp:
        if mosaic.shape[-1] == 1:
            plt.imsave(tmp, mosaic[..., 0], cmap="gray", vmin=0, vmax=255)
        else:
            plt.imsave(tmp, mosaic)


def save_contact_sheet(images: np.ndarray, captions, path: str,
                       columns: int = 10):
    """uint8 images [n, h, w, c] in a grid, each captioned (an id)."""
    plt = _pyplot()
    count = len(images)
    columns = max(1, min(columns, count))
    rows = max(1, math.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, squeeze=False,
                                figsize=(1.3 * columns, 1.5 * rows))
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= count:
            continue
        image = np.asarray(images[index])
        if image.shape[-1] == 1:
            axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
        else:
            axis.imshow(image)
        axis.set_title(str(captions[index])[:18], fontsize=7)
    figure.tight_layout()
    with files.atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=80)
    plt.close(figure)


def save_confusion(result: dict, path: str):
    """The confusion matrix of an evaluation result, with class names."""
    plt = _pyplot()
    matrix = np.asarray(result["confusion_matrix"])
    names = result["class_names"]
    figure, axis = plt.subplots(figsize=(1.2 + 0.55 * len(names),
                                         1.0 + 0.5 * len(names)))
    image = axis.imshow(matrix, cmap="Blues")
    axis.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axis.set_yticks(range(len(names)), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        axis.text(column, row, str(count), ha="center", va="center", fontsize=7,
                  color="white" if count > threshold else "black")
    axis.set_title(f"{result.get('dataset', '')} {result.get('split', '')} "
                   f"accuracy {result['accuracy']:.4f}")
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    with files.atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100)
    plt.close(figure)


def read_events(path: str):
    """The `Event` records of one TensorBoard event file, in order. Read with
    tf.data: `tf.compat.v1.train.summary_iterator` does the same but logs a
    deprecation warning at the user."""
    for record in tf.data.TFRecordDataset(path):
        yield tf.compat.v1.Event.FromString(record.numpy())


def read_scalars(run_dir: str) -> dict:
    """{tag: [(step, value)]} from every TensorBoard event file of a run."""
    scalars = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        for event in read_events(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    scalars.setdefault(value.tag, {})[event.step] = float(
                        tf.make_ndarray(value.tensor))
    return {tag: sorted(points.items()) for tag, points in scalars.items()}


def save_curves(run_dir: str, path: str):
    """Losses and train/test accuracy against step, from the event files."""
    scalars = read_scalars(run_dir)
    plt = _pyplot()
    figure, (losses_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 3.8))
    for tag in ("loss/d_loss", "loss/d_loss_real", "loss/d_loss_fake",
                "loss/g_loss", "loss/S_loss"):
        if tag in scalars:
            steps, values = zip(*scalars[tag])
            losses_axis.plot(steps, values, label=tag.split("/")[1])
    losses_axis.set_xlabel("step")
    losses_axis.set_title("losses")
    losses_axis.legend(fontsize=8)
    for tag, label in (("loss/accuracy", "train batch"),
                       ("test/accuracy", "test")):
        if tag in scalars:
            steps, values = zip(*scalars[tag])
            accuracy_axis.plot(steps, values, label=label, marker=".")
    accuracy_axis.set_xlabel("step")
    accuracy_axis.set_title("accuracy")
    accuracy_axis.set_ylim(0, 1.02)
    accuracy_axis.legend(fontsize=8)
    figure.tight_layout()
    with files.atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100)
    plt.close(figure)


def sample_grid_files(run_dir: str) -> list:
    """samples-<step>.png of a run, in step order."""
    names = [n for n in os.listdir(run_dir)
             if n.startswith("samples-") and n.endswith(".png")
             and n[8:-4].isdigit()]
    return [os.path.join(run_dir, n) for n in sorted(names,
                                                     key=lambda n: int(n[8:-4]))]


def save_gif(run_dir: str, path: str, frame_ms: int = 300) -> int:
    """training.gif: one frame per saved sample grid. Returns the frame count."""
    grids = sample_grid_files(run_dir)
    if not grids:
        return 0
    frames = [Image.open(f).convert("RGB") for f in grids]
    with files.atomic_path(path) as tmp:
        frames[0].save(tmp, save_all=True, append_images=frames[1:],
                       duration=frame_ms, loop=0)
    return len(frames)


def write_run_pictures(run_dir: str, result: dict = None):
    """confusion.png (given an evaluation result), curves.png, training.gif."""
    if result is not None:
        save_confusion(result, os.path.join(run_dir, "confusion.png"))
    save_curves(run_dir, os.path.join(run_dir, "curves.png"))
    save_gif(run_dir, os.path.join(run_dir, "training.gif"))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Write curves.png and training.gif (and confusion.png from "
                    "the newest eval-<step>.json) into a run folder.")
    parser.add_argument("run_dir")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.run_dir):
        print(f"error: {args.run_dir}: not a run folder", file=sys.stderr)
        sys.exit(2)
    evals = [n for n in os.listdir(args.run_dir)
             if n.startswith("eval-") and n[5:-5].isdigit()]
    result = None
    if evals:
        newest = max(evals, key=lambda n: int(n[5:-5]))
        with open(os.path.join(args.run_dir, newest)) as f:
            result = json.load(f)
    write_run_pictures(args.run_dir, result)
    print(f"wrote pictures into {args.run_dir}")


if __name__ == "__main__":
    main()
