"""Rows of an image array by index: a split of a dataset without a copy.

A dataset's images are one array, usually the cache file on disk, read on
demand (ImageFile). A split, a labeled subset or a batch is a list of row
numbers into it; only reading turns rows into memory, and then only those
rows, read in file order (one forward pass over the file however the rows
are ordered).
"""

import os
from typing import Sequence, Union

import numpy as np


class ImageFile:
    """The images of a `.npy` file, read on demand with `pread`: nothing is
    mapped into the process, so its memory holds what was asked for and no
    more (a memory map's read-ahead soon holds the whole file). Indexed by
    an int, a slice, an index array or a boolean mask."""

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0
                           if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
            self.offset = f.tell()
        if fortran or len(shape) < 1:
            raise ValueError(f"{path}: not a C-ordered array of rows")
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.ndim = len(self.shape)
        self.row_bytes = int(np.prod(self.shape[1:])) * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)
        size = os.fstat(self._fd).st_size
        if size != self.offset + self.nbytes:
            os.close(self._fd)
            self._fd = None
            raise ValueError(f"{path}: {size} bytes, its header says "
                             f"{self.offset + self.nbytes} (cut short?)")

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self.row_bytes

    def _read(self, first: int, count: int, out) -> None:
        view = memoryview(out).cast("B")
        done = 0
        while done < count * self.row_bytes:
            got = os.preadv(self._fd, [view[done:]], self.offset
                            + first * self.row_bytes + done)
            if got <= 0:
                raise OSError(f"{self.path}: file shorter than its header says")
            done += got

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            key = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= key < self.shape[0]:
                raise IndexError(key)
            out = np.empty(self.shape[1:], self.dtype)
            self._read(key, 1, out)
            return out
        rows = np.arange(self.shape[0])[key] if isinstance(key, slice) \
            else as_rows(key, self.shape[0])
        out = np.empty((len(rows),) + self.shape[1:], self.dtype)
        if not len(rows):
            return out
        # one read per run of consecutive rows
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for start, end in zip(np.r_[0, breaks], np.r_[breaks, len(rows)]):
            self._read(int(rows[start]), int(end - start), out[start:end])
        return out


def as_rows(key, length: int) -> np.ndarray:
    """Row numbers, as NumPy reads `key` along an axis of `length`: integers
    (negative from the end) or a boolean mask of that length."""
    rows = np.asarray(key)
    if rows.dtype == bool:
        if rows.shape != (length,):
            raise IndexError(f"a boolean mask of shape {rows.shape} for "
                             f"{length} rows")
        return np.flatnonzero(rows)
    if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype,
                                                          np.integer)):
        raise IndexError("rows are chosen by an int, a slice, a 1-d array "
                         "of ints or a boolean mask")
    rows = rows.astype(np.int64)
    if rows.size and (rows.min() < -length or rows.max() >= length):
        raise IndexError("row out of range")
    return np.where(rows < 0, rows + length, rows)


def read_rows(base: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`base[rows]` as a new array, read in ascending row order."""
    rows = np.asarray(rows, np.int64)
    order = np.argsort(rows, kind="stable")
    out = np.empty((len(rows),) + tuple(base.shape[1:]), base.dtype)
    out[order] = base[rows[order]]
    return out


class ImageRows:
    """Images `base[rows]`, read only when asked for.

    Behaves as a read-only array where the code needs one: `len`, `shape`,
    `dtype`, `nbytes`, `images[i]`, `images[a:b]`, `images[index_array]`,
    `images[bool_mask]` and `np.asarray(images)` (each reads just what it
    returns).
    """

    def __init__(self, base: np.ndarray, rows=None):
        if isinstance(base, ImageRows):
            base, rows = base.base, base.rows if rows is None else \
                base.rows[as_rows(rows, len(base))]
        self.base = base
        self.rows = (np.arange(len(base), dtype=np.int64) if rows is None
                     else as_rows(rows, len(base)))

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self):
        return (len(self.rows),) + tuple(self.base.shape[1:])

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def ndim(self) -> int:
        return self.base.ndim

    @property
    def nbytes(self) -> int:
        return len(self.rows) * int(np.prod(self.base.shape[1:])) * \
            self.base.dtype.itemsize

    def take(self, indices: Sequence[int]) -> "ImageRows":
        """The rows at positions `indices` of these, still unread."""
        return ImageRows(self, indices)

    def read(self, indices) -> np.ndarray:
        """The images at positions `indices` of these rows, as a new array."""
        return read_rows(self.base, self.rows[as_rows(indices, len(self))])

    def __getitem__(self, key: Union[int, slice, Sequence[int], tuple]):
        if key is Ellipsis or (isinstance(key, tuple) and key
                               and key[0] is Ellipsis):
            return np.asarray(self)[key]
        if isinstance(key, tuple):  # rows first, then within the images
            return self[key[0]][(slice(None),) * (
                not isinstance(key[0], (int, np.integer))) + key[1:]]
        if isinstance(key, (int, np.integer)):
            return np.array(self.base[self.rows[key]])
        if isinstance(key, slice):
            return read_rows(self.base, self.rows[key])
        return self.read(key)

    def __array__(self, dtype=None, copy=None):  # pylint: disable=unused-argument
        array = read_rows(self.base, self.rows)
        return array if dtype is None else array.astype(dtype)
