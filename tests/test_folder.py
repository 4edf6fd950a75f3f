"""download.py --from_folder: a tree of PNG/JPEG images, one folder per class."""

import os

import numpy as np
import pytest
from PIL import Image

from ssgan_tf.data import format as data_format
from ssgan_tf.errors import UserError

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


def test_unreadable_images_are_skipped_and_listed(tmp_path):
    """A zero-byte PNG, a text file named .png and a JPEG cut in half among
    good images: the conversion finishes without them, says how many it
    skipped in one line and lists them in the dataset folder."""
    arrays = make_tree(str(tmp_path / "images"))
    dog = tmp_path / "images" / "dog"
    (dog / "empty.png").write_bytes(b"")
    (dog / "text.png").write_bytes(b"hello, not an image")
    photo = np.random.RandomState(3).randint(0, 256, (12, 10)).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "cut.jpg")
    whole = (tmp_path / "cut.jpg").read_bytes()
    (dog / "cut.jpg").write_bytes(whole[:len(whole) // 2])
    result = run_cli("download.py", "--from_folder", str(tmp_path / "images"),
                     "--name", "pets", "--dataset_dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr[-3000:]
    said = [line for line in (result.stdout + result.stderr).splitlines()
            if "skipped" in line]
    assert len(said) == 1 and "skipped 3 unreadable image(s)" in said[0]
    listed = (tmp_path / "data" / "pets" / "unreadable.txt").read_text()
    assert sorted(os.path.basename(p) for p in listed.split()) == [
        "cut.jpg", "empty.png", "text.png"]
    dataset = data_format.load_dataset(str(tmp_path / "data"), "pets")
    assert len(dataset) == 6 and "dog_text.png" not in dataset.ids
    index = dataset.ids.index("dog_2.png")
    np.testing.assert_array_equal(dataset.images[index, ..., 0],
                                  arrays[("dog", 2)])
    # the folder mended: converted again, the list goes
    for name in ("empty.png", "text.png", "cut.jpg"):
        (dog / name).unlink()
    result = run_cli("download.py", "--from_folder", str(tmp_path / "images"),
                     "--name", "pets", "--dataset_dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / "data" / "pets" / "unreadable.txt").exists()


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
    assert "0 = ant, 1 = bee" in result.stdout
    # the 80/20 rule's test fifth (2 of 7) held only unlabeled images, which
    # train: id_train.txt lists all 7, and the test split is empty
    assert "4 labeled for training, 0 labeled for testing (the 80/20 rule, " \
        "recorded in the dataset)" in result.stdout
    assert len((tmp_path / "data" / "bugs" / "id_train.txt").read_text()
               .split()) == 7
    assert "3 unlabeled;" in result.stdout
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


def test_labels_added_later_move_no_image_between_train_and_test(tmp_path):
    """Class folders and unlabeled/ with no train/test: the 80/20 split is
    kept in the dataset at conversion (an unlabeled image the rule put in
    test trains), so labeling every unlabeled image later - from a CSV that
    a spreadsheet saved with a byte-order mark and semicolons - moves none
    into the test set: every one of them trains in the next run."""
    from ssgan_tf.data import splits as splits_lib
    rng = np.random.RandomState(3)
    root = tmp_path / "images"
    for class_name in ("a", "b"):
        for i in range(3):
            save(str(root / class_name / f"{i}.png"), pixels(rng, 6, 6))
    for i in range(14):
        save(str(root / "unlabeled" / f"u{i:02d}.png"), pixels(rng, 6, 6))
    data = str(tmp_path / "data")
    result = run_cli("download.py", "--from_folder", str(root), "--name",
                     "ab", "--dataset_dir", data)
    assert result.returncode == 0, result.stderr[-3000:]
    train, test = splits_lib.train_and_test(data, "ab")
    dataset = data_format.load_dataset(data, "ab")
    unlabeled = [i for i, label in zip(dataset.ids, dataset.labels)
                 if label == data_format.UNLABELED]
    rule = data_format.rule_split(dataset.ids)
    assert set(rule["test"]) & set(unlabeled)  # the case at stake
    assert set(unlabeled) <= set(train.ids)
    rows = "".join(f"{i};a;0.5;;1;b\r\n" for i in unlabeled)
    filled = tmp_path / "filled.csv"
    filled.write_bytes(("\ufeffid;predicted;probability;checkpoint;step;"
                        "label\r\n" + rows).encode("utf-8"))
    result = run_cli("download.py", "--add_labels", str(filled), "--name",
                     "ab", "--dataset_dir", data)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "14 labels" in result.stdout
    after_train, after_test = splits_lib.train_and_test(data, "ab")
    assert list(after_test.ids) == list(test.ids)
    assert set(unlabeled) <= set(after_train.ids)
    assert list(after_train.ids) == list(train.ids)
    assert after_train.num_unlabeled == 0


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
    assert "6 labeled for training, 4 labeled for testing" in result.stdout
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


def test_a_folder_converted_in_chunks_equals_one_converted_at_once(
        tmp_path, monkeypatch):
    """Memory holds a chunk at a time: 300 images in chunks of 32 (the last
    one short) give the dataset one chunk gives, unlabeled images and the
    split included."""
    from ssgan_tf.data import folder as folder_lib
    rng = np.random.RandomState(5)
    root = tmp_path / "images"
    for index in range(300):
        where = ("train", "test", "unlabeled")[index % 3]
        if where == "unlabeled":
            path = root / "unlabeled" / f"u{index}.png"
        else:
            path = root / where / ("ab"[index % 2]) / f"{index}.png"
        save(str(path), pixels(rng, 6, 7))
    written = {}
    for name, chunk in (("once", 10_000), ("chunks", 32)):
        monkeypatch.setattr(folder_lib, "CHUNK_IMAGES", chunk)
        folder_lib.convert_folder(str(root), name, str(tmp_path / "data"),
                                  log=lambda *a: None)
        written[name] = data_format.load_dataset(str(tmp_path / "data"), name)
        for split in ("id.txt", "id_train.txt", "id_test.txt"):
            written[name, split] = (tmp_path / "data" / name / split
                                    ).read_text()
    once, chunks = written["once"], written["chunks"]
    assert chunks.ids == once.ids and len(once) == 300
    assert chunks.class_names == once.class_names == ["a", "b"]
    np.testing.assert_array_equal(chunks.images, once.images)
    np.testing.assert_array_equal(chunks.labels, once.labels)
    assert (chunks.labels == data_format.UNLABELED).sum() == 100
    for split in ("id.txt", "id_train.txt", "id_test.txt"):
        assert written["chunks", split] == written["once", split]


def test_an_image_that_fails_to_decode_is_skipped_in_any_chunk(
        tmp_path, monkeypatch):
    """A file whose header reads but whose pixels do not (a PNG cut short)
    in a later chunk than the first: skipped, the rest written in order; a
    class with no readable image left is an error that writes nothing."""
    from ssgan_tf.data import folder as folder_lib
    monkeypatch.setattr(folder_lib, "CHUNK_IMAGES", 2)
    arrays = make_tree(str(tmp_path / "images"))
    whole = (tmp_path / "images" / "dog" / "1.png").read_bytes()
    (tmp_path / "images" / "dog" / "1.png").write_bytes(whole[:len(whole) // 2])
    said = []
    folder_lib.convert_folder(str(tmp_path / "images"), "pets",
                              str(tmp_path / "data"), log=said.append)
    assert any("skipped 1 unreadable" in line for line in said)
    dataset = data_format.load_dataset(str(tmp_path / "data"), "pets")
    assert dataset.ids == ["cat_0.png", "cat_1.png", "cat_2.png",
                           "dog_0.png", "dog_2.png"]
    np.testing.assert_array_equal(dataset.images[4, ..., 0],
                                  arrays[("dog", 2)])
    np.testing.assert_array_equal(dataset.labels, [0, 0, 0, 1, 1])
    for index in (0, 2):
        (tmp_path / "images" / "dog" / f"{index}.png").write_bytes(b"")
    with pytest.raises(UserError, match="no readable image in class "
                                        "folder.* dog"):
        folder_lib.convert_folder(str(tmp_path / "images"), "other",
                                  str(tmp_path / "data"), log=said.append)
    assert not (tmp_path / "data" / "other").exists()
