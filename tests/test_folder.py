"""download.py --from_folder: a tree of PNG/JPEG images, one folder per class."""

import os

import numpy as np
import pytest
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


def save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def pixels(rng, height, width, channels=None):
    shape = (height, width) if channels is None else (height, width, channels)
    return rng.randint(0, 256, shape).astype(np.uint8)


def test_class_folders_with_unlabeled_images_at_any_depth(tmp_path):
    rng = np.random.RandomState(1)
    root = tmp_path / "images"
    for class_name in ("ant", "bee"):
        for i in range(2):
            save(str(root / class_name / f"{i}.png"), pixels(rng, 8, 8))
    for relative in ("u0.png", "deeper/u1.png", "deeper/still/u2.jpg"):
        save(str(root / "unlabeled" / relative), pixels(rng, 8, 8))
    result = run_cli("download.py", "--from_folder", str(root), "--name",
                     "bugs", "--dataset_dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(4 labeled, 3 unlabeled)" in result.stdout
    dataset = data_format.load_dataset(str(tmp_path / "data"), "bugs")
    assert dataset.class_names == ["ant", "bee"]
    unlabeled = [i for i, label in zip(dataset.ids, dataset.labels)
                 if label == data_format.UNLABELED]
    assert unlabeled == ["unlabeled_deeper_still_u2.jpg",
                         "unlabeled_deeper_u1.png", "unlabeled_u0.png"]
    # a short semi-supervised run on exactly that split
    result = run_cli("trainer.py", "--dataset", "bugs", "--dataset_dir",
                     str(tmp_path / "data"), "--train_dir",
                     str(tmp_path / "runs"), "--batch_size", "2", "--n_z",
                     "8", "--max_training_steps", "4", "--steps_per_call", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "labeled, 3 unlabeled-only)" in result.stdout


def test_a_train_and_test_layout_keeps_its_split(tmp_path):
    rng = np.random.RandomState(2)
    root = tmp_path / "images"
    for split, count in (("train", 3), ("test", 2)):
        for class_name in ("a", "b"):
            for i in range(count):
                save(str(root / split / class_name / f"{i}.png"),
                     pixels(rng, 6, 6, 3))
    save(str(root / "unlabeled" / "x.png"), pixels(rng, 6, 6, 3))
    result = run_cli("download.py", "--from_folder", str(root), "--name",
                     "ab", "--dataset_dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr[-3000:]
    path = tmp_path / "data" / "ab"
    train_ids = (path / "id_train.txt").read_text().split()
    test_ids = (path / "id_test.txt").read_text().split()
    assert sorted(test_ids) == ["test_a_0.png", "test_a_1.png",
                                "test_b_0.png", "test_b_1.png"]
    assert len(train_ids) == 7 and "unlabeled_x.png" in train_ids
    test = data_format.load_split(str(tmp_path / "data"), "ab", "test")
    assert sorted(test.ids) == sorted(test_ids)
    assert test.class_names == ["a", "b"] and test.image_shape == (6, 6, 3)


def test_mixed_sizes_and_colours_convert_with_image_size_and_rgb(tmp_path):
    rng = np.random.RandomState(3)
    root = tmp_path / "images"
    wide = pixels(rng, 10, 20, 3)  # a colour image twice as wide as high
    save(str(root / "c" / "wide.png"), wide)
    save(str(root / "c" / "grey.png"), pixels(rng, 12, 12))
    save(str(root / "d" / "small.png"), pixels(rng, 5, 5, 3))
    command = ["download.py", "--from_folder", str(root), "--name", "mix",
               "--dataset_dir", str(tmp_path / "data")]
    result = run_cli(*command)
    assert_one_line_error(result, "grey and colour", "--rgb")
    result = run_cli(*command, "--rgb")
    assert_one_line_error(result, "differ in size", "10x20 (1)",
                          "--image_size")
    assert not (tmp_path / "data" / "mix").exists()
    result = run_cli(*command, "--rgb", "--image_size", "8")
    assert result.returncode == 0, result.stderr[-3000:]
    dataset = data_format.load_dataset(str(tmp_path / "data"), "mix")
    assert dataset.image_shape == (8, 8, 3)
    # aspect kept: the wide image was scaled to 8 x 16 and its centre cut out
    expected = np.asarray(Image.fromarray(wide).resize((16, 8),
                                                       Image.BILINEAR))[:, 4:12]
    np.testing.assert_array_equal(
        dataset.images[dataset.ids.index("c_wide.png")], expected)
    result = run_cli(*command[:4], "grey", "--dataset_dir",
                     str(tmp_path / "data"), "--grayscale", "--image_size",
                     "4", "6")
    assert result.returncode == 0, result.stderr[-3000:]
    grey = data_format.load_dataset(str(tmp_path / "data"), "grey")
    assert grey.image_shape == (4, 6, 1)


@pytest.mark.parametrize("case, fragment", [
    ("unlabeled_only", "no class sub-folders"),
    ("empty_class", "class folder without a PNG or JPEG"),
    ("not_an_image", "notes.txt: not a PNG or JPEG"),
    ("size_zero", "--image_size"),
])
def test_bad_folders_are_one_line_and_write_nothing(tmp_path, case, fragment):
    rng = np.random.RandomState(4)
    root = tmp_path / "images"
    if case == "unlabeled_only":
        save(str(root / "unlabeled" / "a.png"), pixels(rng, 4, 4))
    else:
        save(str(root / "x" / "a.png"), pixels(rng, 4, 4))
        os.makedirs(root / "y")
        if case != "empty_class":
            save(str(root / "y" / "b.png"), pixels(rng, 4, 4))
        if case == "not_an_image":
            (root / "y" / "notes.txt").write_text("hello")
    extra = ["--image_size", "0"] if case == "size_zero" else []
    result = run_cli("download.py", "--from_folder", str(root), "--name", "n",
                     "--dataset_dir", str(tmp_path / "data"), *extra)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "data").exists() or \
        not os.listdir(tmp_path / "data")
