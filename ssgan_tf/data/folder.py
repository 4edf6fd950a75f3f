"""A folder of images converted to data.hy + id.txt, in the usual layouts:

    DIR/<class>/*.png                     one sub-folder per class
    DIR/train/<class>/*, DIR/test/<class>/*   a split of your own
    DIR/unlabeled/**/*.png                (either layout) images without labels

Class names are the class folders' names in sorted order (kept in data.hy's
`class_names` attribute). Ids are the image's path under DIR with '/' replaced
by '_' (HDF5 would read '/' as a nested group), e.g. `cat_0001.png`,
`train_cat_0001.png`, `unlabeled_0001.png`. The split layout is written as
id_train.txt (with the unlabeled images) and id_test.txt.

All images must share one size unless `image_size` is given: then each is
scaled so that it covers the size (aspect kept) and its centre cut out.
Grey and colour images are not mixed unless `channels` says which to make.
Headers are read first (size and mode, no decoding), then the images are
decoded in parallel straight into the one array that is written.
"""

import concurrent.futures
import os
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from ssgan_tf.data import format as data_format
from ssgan_tf.data.images import IMAGE_EXTENSIONS
from ssgan_tf.errors import UserError

UNLABELED_FOLDER = "unlabeled"
GREY_MODES = ("L", "1", "LA", "I;16", "I", "F")
_SHOW = 5  # offending files listed in an error


def _listing(paths: Sequence[str]) -> str:
    more = f" and {len(paths) - _SHOW} more" if len(paths) > _SHOW else ""
    return ", ".join(paths[:_SHOW]) + more


def _images_in(folder: str, recursive: bool) -> List[str]:
    """Image files under `folder`, sorted; another file is an error."""
    found, others = [], []
    walk = os.walk(folder) if recursive else [
        (folder, [], os.listdir(folder))]
    for parent, dirs, names in walk:
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            path = os.path.join(parent, name)
            if name.startswith(".") or not os.path.isfile(path):
                continue
            (found if name.lower().endswith(IMAGE_EXTENSIONS)
             else others).append(path)
    if others:
        raise UserError(f"{others[0]}: not a PNG or JPEG image (in "
                        f"{folder}); move it out of the folder")
    return sorted(found)


def _class_folders(folder: str) -> List[str]:
    return sorted(d for d in os.listdir(folder)
                  if os.path.isdir(os.path.join(folder, d))
                  and not d.startswith(".") and d != UNLABELED_FOLDER)


def find_examples(folder: str) -> Tuple[List[str], List[int], List[str],
                                        Optional[Dict[str, List[str]]]]:
    """(files, labels (-1: unlabeled), class names, splits or None) of a
    folder in one of the layouts; files are relative to `folder`."""
    if not os.path.isdir(folder):
        raise UserError(f"--from_folder {folder}: not a folder")
    split_layout = all(os.path.isdir(os.path.join(folder, s))
                       for s in ("train", "test"))
    roots = ["train", "test"] if split_layout else [""]
    classes = sorted({c for root in roots
                      for c in _class_folders(os.path.join(folder, root))})
    if not classes:
        raise UserError(f"--from_folder {folder}: has no class sub-folders "
                        f"(DIR/<class>/*.png or DIR/train/<class>/ and "
                        f"DIR/test/<class>/); unlabeled images alone cannot "
                        f"train a classifier")
    files, labels, split_of = [], [], []
    for root in roots:
        for label, class_name in enumerate(classes):
            class_dir = os.path.join(folder, root, class_name)
            if not os.path.isdir(class_dir):
                continue
            inside = _images_in(class_dir, recursive=False)
            if not inside:
                raise UserError(f"{class_dir}: class folder without a PNG or "
                                f"JPEG image")
            files += [os.path.relpath(p, folder) for p in inside]
            labels += [label] * len(inside)
            split_of += [root or "train"] * len(inside)
    unlabeled_dir = os.path.join(folder, UNLABELED_FOLDER)
    if os.path.isdir(unlabeled_dir):
        inside = _images_in(unlabeled_dir, recursive=True)
        files += [os.path.relpath(p, folder) for p in inside]
        labels += [data_format.UNLABELED] * len(inside)
        split_of += ["train"] * len(inside)
    splits = None
    if split_layout:
        ids = [example_id(f) for f in files]
        splits = {s: [i for i, where in zip(ids, split_of) if where == s]
                  for s in ("train", "test")}
    return files, labels, classes, splits


def example_id(relative: str) -> str:
    return relative.replace(os.sep, "_")


def _header(path: str):
    """(width, height, grey) from the file's header, without decoding it."""
    try:
        with Image.open(path) as image:
            grey = image.mode in GREY_MODES or (
                image.mode == "P" and _palette_is_grey(image))
            return image.size[0], image.size[1], grey
    except Exception:  # pylint: disable=broad-except
        return None


def _palette_is_grey(image) -> bool:
    palette = image.getpalette() or []
    triples = np.asarray(palette[:len(palette) // 3 * 3]).reshape(-1, 3)
    return bool((triples == triples[:, :1]).all())


def _fit(image, size: Tuple[int, int]):
    """Scaled to cover `size` (height, width) with its aspect kept, then its
    centre cut out."""
    height, width = size
    scale = max(width / image.size[0], height / image.size[1])
    scaled = (max(width, round(image.size[0] * scale)),
              max(height, round(image.size[1] * scale)))
    image = image.resize(scaled, Image.BILINEAR)
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return image.crop((left, top, left + width, top + height))


class _Progress:
    """`converting N images [####    ]` on a terminal, nothing elsewhere."""

    def __init__(self, total: int, stream=None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0.0

    def update(self):
        self.done += 1
        now = time.monotonic()
        if self.tty and (now - self._last > 0.1 or self.done == self.total):
            self._last = now
            bar = "#" * int(30 * self.done / self.total)
            self.stream.write(f"\rconverting [{bar:<30}] {self.done}/"
                              f"{self.total}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def convert_folder(folder: str, name: str, dataset_dir: str = "datasets",
                   image_size: Optional[Tuple[int, int]] = None,
                   channels: Optional[int] = None, log=print) -> str:
    """Converts a folder of images into `dataset_dir/name`.

    Args:
      folder: the images, in one of the layouts above.
      name: the dataset's name (its folder under `dataset_dir`).
      image_size: (height, width) every image is fitted to; None: all images
        must already share one size.
      channels: 1 (grey) or 3 (RGB) to convert every image; None: all images
        must be grey, or all colour.

    Returns:
      The dataset folder written.
    """
    if image_size is not None and min(image_size) <= 0:
        raise UserError(f"--image_size {' '.join(map(str, image_size))}: "
                        f"sizes must be positive")
    files, labels, classes, splits = find_examples(folder)
    paths = [os.path.join(folder, f) for f in files]
    ids = [example_id(f) for f in files]
    if len(set(ids)) < len(ids):
        seen, twice = set(), []
        for example, path in zip(ids, paths):
            if example in seen:
                twice.append(path)
            seen.add(example)
        raise UserError(f"--from_folder {folder}: two images would get one id "
                        f"('/' becomes '_'): {_listing(twice)}")
    shape = _common_shape(folder, paths, image_size, channels)
    images = np.empty((len(paths),) + shape, np.uint8)
    progress = _Progress(len(paths))

    def decode(index):
        images[index] = _read(paths[index], shape, image_size is not None)
        return index

    unreadable = []
    workers = min(8, (os.cpu_count() or 1) * 2)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(decode, i): i for i in range(len(paths))}
        for future in concurrent.futures.as_completed(futures):
            if future.exception() is not None:
                unreadable.append(paths[futures[future]])
            progress.update()
    if unreadable:
        raise UserError(f"--from_folder {folder}: {len(unreadable)} unreadable "
                        f"image(s): {_listing(sorted(unreadable))}")
    path = os.path.join(dataset_dir, name)
    data_format.write_dataset(path, ids, images, np.asarray(labels),
                              num_class=len(classes), class_names=classes,
                              splits=splits)
    unlabeled = sum(1 for label in labels if label == data_format.UNLABELED)
    log(f"{name}: {len(ids)} images of {shape}, {len(classes)} classes "
        f"({len(ids) - unlabeled} labeled, {unlabeled} unlabeled"
        f"{'; train/test split kept' if splits else ''}) written to {path}")
    return path


def _common_shape(folder, paths, image_size, channels):
    """The shape every image is converted to, from the files' headers."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        headers = list(pool.map(_header, paths))
    unreadable = [p for p, h in zip(paths, headers) if h is None]
    if unreadable:
        raise UserError(f"--from_folder {folder}: {len(unreadable)} unreadable "
                        f"image(s): {_listing(unreadable)}")
    if channels is None:
        greys = {grey for _, _, grey in headers}
        if len(greys) > 1:
            colour = [p for p, (_, _, g) in zip(paths, headers) if not g]
            raise UserError(f"--from_folder {folder}: grey and colour images "
                            f"are mixed (colour: {_listing(colour)}); pass "
                            f"--rgb or --grayscale to convert them all")
        channels = 1 if greys == {True} else 3
    if image_size is not None:
        return tuple(image_size) + (channels,)
    sizes = [(h, w) for w, h, _ in headers]
    counts = {size: sizes.count(size) for size in set(sizes)}
    if len(counts) > 1:
        common = max(counts, key=counts.get)
        odd = [p for p, s in zip(paths, sizes) if s != common]
        found = ", ".join(f"{h}x{w} ({n})" for (h, w), n in sorted(
            counts.items(), key=lambda item: -item[1])[:_SHOW])
        raise UserError(f"--from_folder {folder}: images differ in size "
                        f"({found}); not {common[0]}x{common[1]}: "
                        f"{_listing(odd)}; pass --image_size H W to fit them "
                        f"all to one size")
    return sizes[0] + (channels,)


def _read(path, shape, fit):
    height, width, channels = shape
    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        if fit and image.size != (width, height):
            image = _fit(image, (height, width))
        array = np.asarray(image, np.uint8)
    if array.shape[:2] != (height, width):
        raise ValueError(f"{path}: size changed while reading")
    return array.reshape(shape)
