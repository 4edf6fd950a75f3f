"""A folder of images, one sub-folder per class, converted to data.hy + id.txt.

    DIR/cat/0001.png, DIR/cat/0002.jpg, DIR/dog/a.png, ...

Class names are the sub-folder names in sorted order (kept in data.hy's
`class_names` attribute); ids are `<class>/<file name>` with the '/' replaced by
'_' (HDF5 would read '/' as a nested group). All images must share one size;
grey and colour images are not mixed.
"""

import os
from typing import List

import numpy as np
from PIL import Image

from ssgan_tf.data import format as data_format
from ssgan_tf.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_SHOW = 5  # offending files listed in an error


def _listing(paths: List[str]) -> str:
    more = f" and {len(paths) - _SHOW} more" if len(paths) > _SHOW else ""
    return ", ".join(paths[:_SHOW]) + more


def _read_image(path: str) -> np.ndarray:
    with Image.open(path) as image:
        image.load()
        if image.mode in ("L", "1", "I;16", "I", "F"):
            array = np.asarray(image.convert("L"))[..., None]
        elif image.mode == "LA":
            array = np.asarray(image.convert("L"))[..., None]
        else:
            array = np.asarray(image.convert("RGB"))
    return array.astype(np.uint8)


def convert_folder(folder: str, name: str, dataset_dir: str = "datasets",
                   log=print) -> str:
    """Converts an image-per-class folder tree into `dataset_dir/name`.

    Returns:
      The dataset folder written.
    """
    if not os.path.isdir(folder):
        raise UserError(f"--from_folder {folder}: not a folder")
    classes = sorted(d for d in os.listdir(folder)
                     if os.path.isdir(os.path.join(folder, d))
                     and not d.startswith("."))
    if not classes:
        raise UserError(f"--from_folder {folder}: has no class sub-folders")
    files, labels = [], []
    for label, class_name in enumerate(classes):
        for file_name in sorted(os.listdir(os.path.join(folder, class_name))):
            if file_name.lower().endswith(IMAGE_EXTENSIONS):
                files.append(os.path.join(class_name, file_name))
                labels.append(label)
    if not files:
        raise UserError(f"--from_folder {folder}: no {'/'.join(IMAGE_EXTENSIONS)}"
                        f" images in its class sub-folders")
    images, unreadable = [], []
    for relative in files:
        try:
            images.append(_read_image(os.path.join(folder, relative)))
        except Exception:  # PIL raises many types for a broken file
            unreadable.append(os.path.join(folder, relative))
    if unreadable:
        raise UserError(f"--from_folder {folder}: {len(unreadable)} unreadable "
                        f"image(s): {_listing(unreadable)}")
    shapes = [image.shape for image in images]
    common = max(set(shapes), key=shapes.count)
    odd = [os.path.join(folder, f) for f, s in zip(files, shapes) if s != common]
    if odd:
        raise UserError(f"--from_folder {folder}: images differ in size or "
                        f"channels; most are {common}, these are not: "
                        f"{_listing(odd)}")
    ids = [relative.replace(os.sep, "_") for relative in files]
    path = os.path.join(dataset_dir, name)
    data_format.write_dataset(path, ids, np.stack(images), np.asarray(labels),
                              num_class=len(classes), class_names=classes)
    log(f"{name}: {len(ids)} images of {common}, {len(classes)} classes "
        f"written to {path}")
    return path
