"""Rows of an image array by index: a split of a dataset without a copy.

A dataset's images are one array, usually a read-only memory map of the
cache file. A split, a labeled subset or a batch is a list of row numbers
into it; only reading turns rows into memory, and then only those rows,
read in file order (one forward pass over the file however the rows are
ordered).
"""

from typing import Sequence, Union

import numpy as np


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
    `dtype`, `nbytes`, `images[i]`, `images[a:b]`, `images[index_array]` and
    `np.asarray(images)` (each reads just what it returns).
    """

    def __init__(self, base: np.ndarray, rows=None):
        if isinstance(base, ImageRows):
            base, rows = base.base, base.rows if rows is None else \
                base.rows[np.asarray(rows, np.int64)]
        self.base = base
        self.rows = (np.arange(len(base), dtype=np.int64) if rows is None
                     else np.asarray(rows, np.int64))

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
        return read_rows(self.base, self.rows[np.asarray(indices, np.int64)])

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
