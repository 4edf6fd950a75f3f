"""download.py --from_folder: a tree of PNG/JPEG images, one folder per class."""

import os

import numpy as np
from PIL import Image

from ssgan_tf.data import format as data_format

from conftest import assert_one_line_error, run_cli


def make_tree(root, sizes=None, mode="L", count=3):
    rng = np.random.RandomState(0)
    arrays = {}
    for class_name in ("cat", "dog"):
        os.makedirs(os.path.join(root, class_name))
        for i in range(count):
            shape = (sizes or {}).get((class_name, i), (12, 10))
            if mode == "RGB":
                shape = shape + (3,)
            array = rng.randint(0, 256, shape).astype(np.uint8)
            name = f"{i}.png"
            Image.fromarray(array, mode).save(os.path.join(root, class_name, name))
            arrays[(class_name, i)] = array
    return arrays


def test_converts_a_grey_tree(tmp_path):
    arrays = make_tree(str(tmp_path / "images"))
    result = run_cli("download.py", "--from_folder", str(tmp_path / "images"),
                     "--name", "pets", "--dataset_dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    dataset = data_format.load_dataset(str(tmp_path / "data"), "pets")
    assert len(dataset) == 6
    assert dataset.image_shape == (12, 10, 1)
    assert dataset.class_names == ["cat", "dog"]
    index = dataset.ids.index("dog_1.png")
    np.testing.assert_array_equal(dataset.images[index, ..., 0],
                                  arrays[("dog", 1)])
    assert dataset.labels[index] == 1


def test_converts_colour_jpeg(tmp_path):
    root = tmp_path / "images"
    os.makedirs(root / "a")
    os.makedirs(root / "b")
    for folder in ("a", "b"):
        Image.new("RGB", (16, 8), (200, 10, 10)).save(root / folder / "x.jpg")
    result = run_cli("download.py", "--from_folder", str(root), "--name", "c",
                     "--dataset_dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    dataset = data_format.load_dataset(str(tmp_path / "data"), "c")
    assert dataset.image_shape == (8, 16, 3)
    assert abs(int(dataset.images[0, 0, 0, 0]) - 200) < 10


def test_corrupt_image_is_named(tmp_path):
    make_tree(str(tmp_path / "images"))
    (tmp_path / "images" / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    result = run_cli("download.py", "--from_folder", str(tmp_path / "images"),
                     "--name", "pets", "--dataset_dir", str(tmp_path / "data"))
    assert_one_line_error(result, "unreadable", "broken.png")
    assert not (tmp_path / "data" / "pets").exists()


def test_mixed_sizes_are_listed(tmp_path):
    make_tree(str(tmp_path / "images"), sizes={("cat", 2): (9, 9)})
    result = run_cli("download.py", "--from_folder", str(tmp_path / "images"),
                     "--name", "pets", "--dataset_dir", str(tmp_path / "data"))
    assert_one_line_error(result, "differ in size", os.path.join("cat", "2.png"))


def test_from_folder_needs_a_name(tmp_path):
    make_tree(str(tmp_path / "images"))
    result = run_cli("download.py", "--from_folder", str(tmp_path / "images"))
    assert_one_line_error(result, "--name")
