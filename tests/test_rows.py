"""Rows of an image array: read only when asked, in file order."""

import numpy as np
import pytest

from ssgan_tf.data import rows as rows_lib
from ssgan_tf.data.rows import ImageRows


def mapped(tmp_path, count=10):
    images = np.arange(count * 6, dtype=np.uint8).reshape(count, 2, 3, 1)
    np.save(tmp_path / "images.npy", images)
    return images, np.load(tmp_path / "images.npy", mmap_mode="r")


def test_rows_read_what_indexing_the_array_gives(tmp_path):
    images, base = mapped(tmp_path)
    rows = ImageRows(base, [7, 2, 2, 9, 0])
    expected = images[[7, 2, 2, 9, 0]]
    assert len(rows) == 5 and rows.shape == (5, 2, 3, 1)
    assert rows.dtype == np.uint8 and rows.ndim == 4
    assert rows.nbytes == expected.nbytes
    np.testing.assert_array_equal(np.asarray(rows), expected)
    np.testing.assert_array_equal(rows[1], expected[1])
    np.testing.assert_array_equal(rows[1:4], expected[1:4])
    np.testing.assert_array_equal(rows[[4, 0]], expected[[4, 0]])
    np.testing.assert_array_equal(rows[:, 0, 1, 0], expected[:, 0, 1, 0])
    np.testing.assert_array_equal(rows[3, 1], expected[3, 1])
    np.testing.assert_array_equal(rows[..., 0], expected[..., 0])
    np.testing.assert_array_equal(rows.read(np.array([3, 3])),
                                  expected[[3, 3]])


def test_rows_of_rows_stay_rows_of_the_one_array(tmp_path):
    images, base = mapped(tmp_path)
    split = ImageRows(base, [9, 8, 7, 6, 5])
    subset = split.take([4, 0])
    assert subset.base is base  # no copy: still the memory map
    np.testing.assert_array_equal(subset.rows, [5, 9])
    np.testing.assert_array_equal(np.asarray(subset), images[[5, 9]])
    again = ImageRows(subset)
    assert again.base is base
    np.testing.assert_array_equal(again.rows, [5, 9])


def test_rows_are_read_in_ascending_order():
    """One forward pass over the file, however the rows are ordered."""
    asked = []

    class Recording(np.ndarray):
        def __getitem__(self, key):
            asked.append(np.array(key))
            return np.asarray(self).__getitem__(key)

    base = np.arange(8, dtype=np.uint8).reshape(8, 1, 1, 1).view(Recording)
    out = rows_lib.read_rows(base, np.array([6, 1, 4, 1]))
    np.testing.assert_array_equal(out.ravel(), [6, 1, 4, 1])
    assert asked[0].tolist() == [1, 1, 4, 6]


def test_an_image_file_reads_what_numpy_loads(tmp_path):
    """The cache read with pread: any rows, runs of them in one read."""
    images = np.random.RandomState(0).randint(0, 256, (50, 3, 4, 2)).astype(
        np.uint8)
    np.save(tmp_path / "images.npy", images)
    on_disk = rows_lib.ImageFile(str(tmp_path / "images.npy"))
    assert on_disk.shape == images.shape and on_disk.dtype == np.uint8
    assert len(on_disk) == 50 and on_disk.nbytes == images.nbytes
    np.testing.assert_array_equal(on_disk[7], images[7])
    np.testing.assert_array_equal(on_disk[-1], images[-1])
    np.testing.assert_array_equal(on_disk[10:20], images[10:20])
    wanted = np.array([0, 1, 2, 9, 30, 31, 49])
    np.testing.assert_array_equal(on_disk[wanted], images[wanted])
    split = ImageRows(on_disk, [49, 3, 3, 20])
    np.testing.assert_array_equal(np.asarray(split), images[[49, 3, 3, 20]])
    with pytest.raises(IndexError):
        on_disk[np.array([3, 50])]


def test_masks_and_negative_rows_index_as_in_numpy(tmp_path):
    """A boolean mask selects rows (not rows 0 and 1), negative numbers
    count from the end, and what NumPy refuses is refused: in the cache's
    ImageFile, in rows of it, and in rows of an array."""
    images = np.random.RandomState(1).randint(0, 256, (12, 2, 2, 1)).astype(
        np.uint8)
    np.save(tmp_path / "images.npy", images)
    on_disk = rows_lib.ImageFile(str(tmp_path / "images.npy"))
    mask = np.zeros(12, bool)
    mask[[2, 5, 11]] = True
    for indexed, expected in ((on_disk, images),
                              (ImageRows(on_disk), images),
                              (ImageRows(images, np.arange(12)), images),
                              (ImageRows(on_disk, np.arange(11, -1, -1)),
                               images[::-1])):
        np.testing.assert_array_equal(indexed[mask], expected[mask])
        np.testing.assert_array_equal(indexed[[-1, 0, -12]],
                                      expected[[-1, 0, -12]])
        assert len(indexed[np.zeros(12, bool)]) == 0
        for bad in (np.ones(5, bool), [12], [-13], np.array([1.5])):
            with pytest.raises(IndexError):
                indexed[bad]
    rows = ImageRows(on_disk)
    np.testing.assert_array_equal(np.asarray(rows.take(mask)), images[mask])
    np.testing.assert_array_equal(rows.read(mask), images[mask])
