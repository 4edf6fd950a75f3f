"""The cache beside data.hy: rebuilt whenever data.hy or id.txt changes,
or when it is damaged (it is derived data)."""

import os
import time

import h5py
import numpy as np
import pytest

from ssgan_tf.data import format as data_format

from test_format import good_examples, write_original_style


def test_cache_is_rebuilt_when_the_file_changes(tmp_path):
    path = str(tmp_path / "own")
    write_original_style(path, good_examples())
    first = data_format.load_dataset(str(tmp_path), "own")
    assert first.images[4, 0, 0, 0] == 4
    assert os.path.isfile(os.path.join(path, ".cache", "meta.json"))
    time.sleep(0.01)
    with h5py.File(os.path.join(path, "data.hy"), "a") as f:
        del f["4"]["image"]
        f["4"]["image"] = np.full((6, 5, 1), 99, np.uint8)
    second = data_format.load_dataset(str(tmp_path), "own")
    assert second.images[4, 0, 0, 0] == 99


def test_cache_is_rebuilt_when_id_txt_changes(tmp_path):
    path = str(tmp_path / "own")
    write_original_style(path, good_examples())
    data_format.load_dataset(str(tmp_path), "own")
    with open(os.path.join(path, "id.txt"), "w") as f:
        f.write("7\n2\n")
    dataset = data_format.load_dataset(str(tmp_path), "own")
    assert dataset.ids == ["7", "2"]
    np.testing.assert_array_equal(dataset.images[:, 0, 0, 0], [7, 2])


@pytest.mark.parametrize("damage", ["cut_short", "other_row_shape"])
def test_a_damaged_cache_is_rebuilt_from_data_hy(tmp_path, damage):
    """The cache is derived data: cut short, or with a header whose rows are
    not meta.json's image shape, it is read again from data.hy (the same
    images as before), never handed to training."""
    path = str(tmp_path / "own")
    write_original_style(path, good_examples())
    first = data_format.load_dataset(str(tmp_path), "own")
    expected = np.asarray(first.images[:])
    del first
    cached = os.path.join(path, ".cache", "images.npy")
    if damage == "cut_short":
        with open(cached, "r+b") as f:
            f.truncate(os.path.getsize(cached) - 7)
    else:  # the same bytes read as rows of another shape
        array = np.load(cached)
        np.save(cached, array.reshape((len(array), 5, 6, 1)))
    again = data_format.load_dataset(str(tmp_path), "own")
    np.testing.assert_array_equal(np.asarray(again.images[:]), expected)
    assert os.path.getsize(cached) == np.lib.format.open_memmap(
        cached, mode="r").offset + expected.nbytes
