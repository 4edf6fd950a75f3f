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
decoded in parallel, a chunk at a time, and each chunk written out while the
next decodes: memory stays bounded whatever the folder's size.
"""

import collections
import concurrent.futures
import os
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from ssgan_tf import files as files_lib
from ssgan_tf.data import format as data_format
from ssgan_tf.data import images as images_lib
from ssgan_tf.data.images import IMAGE_EXTENSIONS
from ssgan_tf.errors import UserError

UNLABELED_FOLDER = "unlabeled"
GREY_MODES = ("L", "1", "LA", "I;16", "I", "F")
_SHOW = 5  # offending files listed in an error
UNREADABLE_FILE = "unreadable.txt"  # the skipped files, in the dataset folder
# Images decoded and written at a time: memory holds two chunks, whatever the
# folder's size.
CHUNK_IMAGES = 1024
CHUNK_BYTES = 64 << 20


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


class _Progress:
    """`converting N images [####    ]` on a terminal, nothing elsewhere."""

    def __init__(self, total: int, stream=None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0.0

    def update(self, count: int = 1):
        self.done += count
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
    headers = []
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for start in range(0, len(paths), CHUNK_IMAGES):  # few futures alive
            headers += pool.map(_header, paths[start:start + CHUNK_IMAGES])
    unreadable = [p for p, h in zip(paths, headers) if h is None]
    kept = [i for i, h in enumerate(headers) if h is not None]
    shape = _common_shape(folder, [paths[i] for i in kept],
                          [headers[i] for i in kept], image_size, channels)
    path = os.path.join(dataset_dir, name)
    chunk = max(1, min(CHUNK_IMAGES, CHUNK_BYTES // int(np.prod(shape))))
    progress = _Progress(len(paths))
    progress.update(len(unreadable))
    written = []  # indices of the images in the dataset, in order
    workers = min(8, (os.cpu_count() or 1) * 2)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool, \
            data_format.DatasetWriter(path, len(kept), shape, len(classes),
                                      classes) as writer:
        # The next chunk decodes while this one is written.
        pending = _decode_chunk(pool, paths, kept[:chunk], shape, image_size)
        for start in range(0, len(kept), chunk):
            images, failed = _finish_chunk(pending, progress)
            if start + chunk < len(kept):
                pending = _decode_chunk(pool, paths,
                                        kept[start + chunk:start + 2 * chunk],
                                        shape, image_size)
            good = [j for j in range(len(images)) if j not in failed]
            chosen = [kept[start + j] for j in good]
            unreadable += [paths[kept[start + j]] for j in failed]
            writer.add([ids[i] for i in chosen],
                       images[good] if failed else images,
                       [labels[i] for i in chosen])
            written += chosen
        _check_every_class(folder, classes, [labels[i] for i in written])
        given = splits is not None
        if given:
            present = {ids[i] for i in written}
            splits = {split: [i for i in listed if i in present]
                      for split, listed in splits.items()}
        else:  # the 80/20 rule, recorded: labels added later move nothing
            splits = data_format.unlabeled_to_train(
                data_format.rule_split([ids[i] for i in written]),
                [ids[i] for i in written], [labels[i] for i in written])
        writer.commit(splits)
    listed = os.path.join(path, UNREADABLE_FILE)
    if unreadable:
        files_lib.write_lines(listed, sorted(unreadable))
        log(f"skipped {len(unreadable)} unreadable image(s) (e.g. "
            f"{sorted(unreadable)[0]}): listed in {listed}")
    elif os.path.exists(listed):
        os.remove(listed)  # a list of an earlier conversion's
    labels = [labels[i] for i in written]
    unlabeled = labels.count(data_format.UNLABELED)
    labeled = len(labels) - unlabeled
    tested = len(splits["test"])
    counts = (f"{labeled - tested} labeled for training, {tested} labeled "
              f"for testing ({'your split' if given else 'the 80/20 rule'}, "
              f"recorded in the dataset)")
    log(f"{name}: {len(labels)} images of {shape}, {len(classes)} classes "
        f"numbered in alphabetical order (0 = {classes[0]}"
        f"{f', 1 = {classes[1]}' if len(classes) > 1 else ''}"
        f"{', ...' if len(classes) > 2 else ''}): {counts}, {unlabeled} "
        f"unlabeled; written to {path}")
    return path


def _decode_chunk(pool, paths, chosen, shape, image_size):
    """Starts decoding the images at indices `chosen` into one array;
    returns (array, futures)."""
    images = np.empty((len(chosen),) + shape, np.uint8)

    def decode(index):
        images[index] = images_lib.read_image(
            paths[chosen[index]], shape, resize=image_size is not None)
    return images, [pool.submit(decode, i) for i in range(len(chosen))]


def _finish_chunk(pending, progress):
    """(the decoded array, the set of its rows that failed) once a chunk is
    done."""
    images, futures = pending
    failed = set()
    for index, future in enumerate(futures):
        if future.exception() is not None:
            failed.add(index)
        progress.update()
    return images, failed


def _check_every_class(folder, classes, labels):
    """A class whose every image was unreadable cannot be learnt."""
    present = set(labels)
    lost = [name for k, name in enumerate(classes) if k not in present]
    if lost:
        raise UserError(f"--from_folder {folder}: no readable image in class "
                        f"folder(s) {', '.join(lost)}")


def _common_shape(folder, paths, headers, image_size, channels):
    """The shape every image is converted to, from the files' headers."""
    if not paths:
        raise UserError(f"--from_folder {folder}: no readable image")
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
    counts = collections.Counter(sizes)
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
