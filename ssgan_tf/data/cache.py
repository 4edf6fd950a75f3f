"""The cache beside a dataset's data.hy: its images contiguously in
`.cache/images.npy` (read on demand, rows.ImageFile), its labels in
`labels.npy` and, in `meta.json`, the stamp of the data.hy and id.txt it was
made from. It is derived data: anything stale or damaged is rebuilt from
data.hy (format.load_dataset)."""

import hashlib
import json
import os
import tempfile
from typing import Optional, Sequence

import numpy as np

from ssgan_tf import files
from ssgan_tf.data.rows import ImageFile, ImageRows

CACHE_DIR = ".cache"
VERSION = 1


def ids_digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def file_stamp(file_path: str) -> dict:
    stat = os.stat(file_path)
    return {"file": os.path.basename(file_path), "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns}


class CacheWriter:
    """The cache's image array as it is written: an `.npy` file under a
    temporary name in `.cache/`, written with `pwrite` a chunk at a time (a
    memory map would hold every written page in the process), or, for a
    read-only dataset folder, an array in memory and no cache."""

    def __init__(self, path: str, count: int, image_shape):
        self.folder = os.path.join(path, CACHE_DIR)
        self.tmp, self._fd, self.memory = None, None, None
        self.shape = (count,) + tuple(int(d) for d in image_shape)
        self.row_bytes = int(np.prod(self.shape[1:]))
        try:
            os.makedirs(self.folder, exist_ok=True)
            handle, self.tmp = tempfile.mkstemp(
                prefix=".images.", suffix=".tmp.npy", dir=self.folder)
            self._fd = handle
            header = _npy_header(self.shape)
            self.offset = len(header)
            _pwrite_all(self._fd, header, 0)
            # The space is claimed now: a full disk shows at once.
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(self._fd, 0,
                                   self.offset + count * self.row_bytes)
        except OSError as e:
            self.abort()
            if files.out_of_space(e):
                raise
            self.memory = np.empty(self.shape, np.uint8)

    def write(self, start: int, images: np.ndarray):
        """Rows `start` on: uint8 images [k, h, w, c]."""
        if self.memory is not None:
            self.memory[start:start + len(images)] = images
            return
        _pwrite_all(self._fd, np.ascontiguousarray(images, np.uint8),
                    self.offset + start * self.row_bytes)

    def shrink(self, count: int):
        """Keeps the first `count` rows (a writer that skipped some)."""
        self.shape = (count,) + self.shape[1:]
        if self.memory is not None:
            self.memory = self.memory[:count]
            return
        _pwrite_all(self._fd, _npy_header(self.shape, self.offset), 0)
        os.ftruncate(self._fd, self.offset + count * self.row_bytes)

    def invalidate(self):
        """The old cache is stale from the moment the data file changes."""
        try:
            os.remove(os.path.join(self.folder, "meta.json"))
        except OSError:
            pass

    def abort(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.tmp is not None and os.path.exists(self.tmp):
            os.remove(self.tmp)
        self.tmp = None

    def commit(self, data_file, ids, labels, num_class, class_names):
        """Puts the arrays and their stamp in place; returns the images (the
        cache file, read on demand; in a read-only folder, the array)."""
        if self.memory is not None:
            return self.memory
        final = os.path.join(self.folder, "images.npy")
        try:
            self.invalidate()
            os.close(self._fd)
            self._fd = None
            os.chmod(self.tmp, 0o666 & ~files.umask())
            os.replace(self.tmp, final)
            self.tmp = None
            files.remove_temporaries(self.folder, ".images")
            with files.atomic_path(os.path.join(self.folder,
                                                "labels.npy")) as tmp:
                np.save(tmp, labels)
            meta = {"version": VERSION, "data": file_stamp(data_file),
                    "ids_sha256": ids_digest(ids), "num_class": num_class,
                    "image_shape": list(self.shape[1:]),
                    "class_names": list(class_names) if class_names else None}
            files.write_json(os.path.join(self.folder, "meta.json"), meta)
        except BaseException:
            self.abort()
            raise
        return ImageRows(ImageFile(final))


def _npy_header(shape, length: Optional[int] = None) -> bytes:
    """A version 1.0 `.npy` header for uint8 `shape`, padded to `length`
    bytes (default: a multiple of 64, as numpy writes them)."""
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': %r, }" % (
        tuple(shape),)
    total = length or -(-(10 + len(text) + 1) // 64) * 64
    text += " " * (total - 10 - len(text) - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + (total - 10).to_bytes(2, "little") + \
        text.encode("latin1")


def _pwrite_all(fd: int, data, offset: int):
    view = memoryview(data).cast("B")
    while len(view):
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def read(path, data_file, ids):
    cache = os.path.join(path, CACHE_DIR)
    try:
        with open(os.path.join(cache, "meta.json")) as f:
            meta = json.load(f)
        if (meta.get("version") != VERSION
                or meta["data"] != file_stamp(data_file)
                or meta["ids_sha256"] != ids_digest(ids)):
            return None
        images = ImageRows(ImageFile(os.path.join(cache, "images.npy")))
        labels = np.load(os.path.join(cache, "labels.npy"))
    except (OSError, ValueError, KeyError):
        return None  # damaged: rebuilt from data_file (derived data)
    if len(images) != len(ids) or len(labels) != len(ids) or \
            images.dtype != np.uint8 or images.ndim != 4 or \
            list(images.shape[1:]) != meta.get("image_shape",
                                               list(images.shape[1:])):
        return None
    return images, labels, meta["num_class"], meta["class_names"]


def refresh_labels(path, data_file, ids, labels):
    """After only the labels of `data_file` changed (its images did not):
    the cache takes the new labels and the file's new stamp, so it is not
    rebuilt from the whole file."""
    cache = os.path.join(path, CACHE_DIR)
    try:
        with open(os.path.join(cache, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return
    if meta.get("version") != VERSION or \
            meta.get("ids_sha256") != ids_digest(ids):
        return
    os.remove(os.path.join(cache, "meta.json"))  # stale until rewritten
    with files.atomic_path(os.path.join(cache, "labels.npy")) as tmp:
        np.save(tmp, np.asarray(labels, np.int64))
    meta["data"] = file_stamp(data_file)
    files.write_json(os.path.join(cache, "meta.json"), meta)
