"""data.hy / id.txt: round trips, splits, the cache, and every bad input."""

import os
import shutil

import h5py
import numpy as np
import pytest

from ssgan_tf.data import format as data_format, pipeline, splits
from ssgan_tf.data import rows as rows_lib
from ssgan_tf.errors import UserError

from conftest import write_tiny_dataset


def write_original_style(path, examples, file_name="data.hy", ids=None):
    """Writes a file the way the original repository did: h5py's high-level
    API, one group per id. `examples` maps id -> (image, label)."""
    os.makedirs(path, exist_ok=True)
    with h5py.File(os.path.join(path, file_name), "w") as f:
        for example_id, (image, label) in examples.items():
            group = f.create_group(example_id)
            group["image"] = image
            group["label"] = label
    with open(os.path.join(path, "id.txt"), "w") as f:
        f.write("".join(f"{i}\n" for i in (list(examples) if ids is None else ids)))


def good_examples(count=10, shape=(6, 5, 1), num_class=3):
    examples = {}
    for i in range(count):
        label = np.zeros(num_class)
        label[i % num_class] = 1
        examples[str(i)] = (np.full(shape, i, np.uint8), label)
    return examples


@pytest.mark.parametrize("file_name", ["data.hy", "data.hdf5"])
def test_reads_original_files_under_either_name(tmp_path, file_name):
    write_original_style(str(tmp_path / "own"), good_examples(), file_name)
    dataset = data_format.load_dataset(str(tmp_path), "own")
    assert dataset.ids == [str(i) for i in range(10)]
    assert dataset.images.shape == (10, 6, 5, 1)
    assert dataset.images.dtype == np.uint8
    np.testing.assert_array_equal(dataset.images[:, 0, 0, 0], np.arange(10))
    np.testing.assert_array_equal(dataset.labels, np.arange(10) % 3)
    assert dataset.num_class == 3


def test_write_then_read_round_trip(tmp_path):
    path, ids, images, labels = write_tiny_dataset(tmp_path, shape=(7, 9, 3))
    assert os.path.isfile(os.path.join(path, "data.hy"))
    # The file is in the original format: one group per id.
    with h5py.File(os.path.join(path, "data.hy"), "r") as f:
        assert f[ids[3]]["image"].shape == (7, 9, 3)
        np.testing.assert_array_equal(f[ids[3]]["image"][()], images[3])
        one_hot = f[ids[3]]["label"][()]
        assert one_hot.sum() == 1 and one_hot.argmax() == labels[3]
    import shutil
    shutil.rmtree(os.path.join(path, data_format.CACHE_DIR))  # read the groups
    dataset = data_format.load_dataset(str(tmp_path), "tiny")
    np.testing.assert_array_equal(dataset.images, images)
    np.testing.assert_array_equal(dataset.labels, labels)
    assert dataset.ids == ids


def test_original_split_rule(tmp_path):
    path, ids, _, _ = write_tiny_dataset(tmp_path, count=25)
    splits = data_format.split_ids(path, ids)
    expected = list(ids)
    np.random.RandomState(123).shuffle(expected)
    assert splits["train"] == expected[:20]
    assert splits["test"] == expected[20:]


def test_official_split_files_are_used(tmp_path):
    path, ids, _, labels = write_tiny_dataset(tmp_path, count=20, splits=True)
    test = data_format.load_split(str(tmp_path), "tiny", "test")
    assert test.ids == ids[15:]
    np.testing.assert_array_equal(test.labels, labels[15:])
    assert len(data_format.load_split(str(tmp_path), "tiny", "train")) == 15


@pytest.mark.parametrize("given, other", [("train", "test"),
                                           ("test", "train")])
def test_one_split_file_alone_makes_the_other_the_rest(tmp_path, given, other):
    path, ids, _, _ = write_tiny_dataset(tmp_path, count=20)
    chosen = ids[3:8]
    with open(os.path.join(path, f"id_{given}.txt"), "w") as f:
        f.write("\n".join(chosen) + "\n")
    splits = data_format.split_ids(path, ids)
    assert splits[given] == chosen
    assert splits[other] == ids[:3] + ids[8:]


def test_split_files_that_share_ids_are_refused(tmp_path):
    path, ids, _, _ = write_tiny_dataset(tmp_path, count=20, splits=True)
    with open(os.path.join(path, "id_test.txt"), "a") as f:
        f.write(f"{ids[0]}\n{ids[1]}\n")
    with pytest.raises(UserError, match=f"share 2 id\\(s\\), e.g. '{ids[0]}'"):
        data_format.split_ids(path, ids)


def test_folder_name_in_lower_case_is_found(tmp_path):
    write_tiny_dataset(tmp_path, name="mnist")
    assert len(data_format.load_dataset(str(tmp_path), "MNIST")) == 40


# ------------------------------------------------------------------ bad input


def expect_error(tmp_path, *fragments, name="own"):
    with pytest.raises(UserError) as info:
        data_format.load_dataset(str(tmp_path), name)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_folder(tmp_path):
    expect_error(tmp_path, "dataset folder", "nothere", name="nothere")


def test_missing_id_txt(tmp_path):
    write_original_style(str(tmp_path / "own"), good_examples())
    os.remove(tmp_path / "own" / "id.txt")
    expect_error(tmp_path, "id.txt", "not found")


def test_empty_id_txt(tmp_path):
    write_original_style(str(tmp_path / "own"), good_examples(), ids=[])
    expect_error(tmp_path, "id.txt", "lists no ids")


def test_an_id_listed_twice_is_named_with_its_lines(tmp_path):
    write_original_style(str(tmp_path / "own"), good_examples(),
                         ids=["0", "1", "", "2", "1"])
    expect_error(tmp_path, "id.txt", "'1'", "twice", "lines 2 and 5")


def test_missing_data_file(tmp_path):
    write_original_style(str(tmp_path / "own"), good_examples())
    os.remove(tmp_path / "own" / "data.hy")
    expect_error(tmp_path, "data.hy", "not found")


def test_listed_id_absent_from_file(tmp_path):
    write_original_style(str(tmp_path / "own"), good_examples(),
                         ids=["0", "1", "ghost"])
    expect_error(tmp_path, "data.hy", "'ghost'", "absent")


def test_image_of_wrong_rank(tmp_path):
    examples = good_examples()
    examples["3"] = (np.zeros((6, 5), np.uint8), examples["3"][1])
    write_original_style(str(tmp_path / "own"), examples)
    expect_error(tmp_path, "data.hy", "'3'", "shape")


def test_images_of_differing_shapes(tmp_path):
    examples = good_examples()
    examples["5"] = (np.zeros((6, 6, 1), np.uint8), examples["5"][1])
    write_original_style(str(tmp_path / "own"), examples)
    expect_error(tmp_path, "data.hy", "'5'", "(6, 6, 1)")


def test_non_uint8_images(tmp_path):
    examples = good_examples()
    examples["2"] = (examples["2"][0].astype(np.float32), examples["2"][1])
    write_original_style(str(tmp_path / "own"), examples)
    expect_error(tmp_path, "data.hy", "'2'", "float32", "uint8")


@pytest.mark.parametrize("bad_label", [[0.5, 0.5, 0.0], [1.0, 1.0, 0.0],
                                       [2.0, 0.0, 0.0]])
def test_labels_not_one_hot(tmp_path, bad_label):
    examples = good_examples()
    examples["6"] = (examples["6"][0], np.asarray(bad_label))
    write_original_style(str(tmp_path / "own"), examples)
    expect_error(tmp_path, "data.hy", "'6'", "not one-hot")


def test_examples_without_a_label_are_unlabeled(tmp_path):
    """Written by hand as another tool would: no `label` dataset, or an
    all-zero one. They are read as unlabeled, kept out of every labeled set
    and test split, and stay training images of the unlabeled stream."""
    examples = good_examples(count=12)
    path = str(tmp_path / "own")
    write_original_style(path, examples)
    with h5py.File(os.path.join(path, "data.hy"), "a") as f:
        del f["3"]["label"]                     # no label at all
        f["7"]["label"][...] = np.zeros(3)      # an all-zero label
        del f["11"]["label"]
    dataset = data_format.load_dataset(str(tmp_path), "own")
    unlabeled = {"3", "7", "11"}
    assert [i for i, label in zip(dataset.ids, dataset.labels)
            if label == data_format.UNLABELED] == ["3", "7", "11"]
    assert dataset.num_class == 3 and dataset.num_unlabeled == 3
    # id_test.txt lists an unlabeled example: it trains, it is not tested
    with open(os.path.join(path, "id_train.txt"), "w") as f:
        f.write("".join(f"{i}\n" for i in range(8)))
    with open(os.path.join(path, "id_test.txt"), "w") as f:
        f.write("".join(f"{i}\n" for i in range(8, 12)))
    train, test = splits.train_and_test(str(tmp_path), "own")
    assert not unlabeled & set(test.ids) and set(test.ids) == {"8", "9", "10"}
    assert unlabeled <= set(train.ids)
    labeled = splits.labeled_indices(train, 0, seed=1)
    assert not unlabeled & {train.ids[i] for i in labeled}
    assert len(labeled) == len(train) - 3
    assert not unlabeled & set(data_format.load_split(
        str(tmp_path), "own", "train").ids)
    # the unlabeled stream sees every training image, the labeled one never
    # an unlabeled image
    stream = pipeline.train_stream(train.images, train.labels, labeled,
                                   batch_size=4, seed=0)
    marks = {int(train.images[i].ravel()[0]): i for i in range(len(train))}
    seen_labeled, seen_unlabeled = set(), set()
    for batch in stream.take(40):
        for image in batch["image"].numpy():
            seen_labeled.add(train.ids[marks[int(round((image.ravel()[0] + 1)
                                                        * 127.5))]])
        for image in batch["unlabeled"].numpy():
            seen_unlabeled.add(train.ids[marks[int(round(
                (image.ravel()[0] + 1) * 127.5))]])
    assert not unlabeled & seen_labeled
    assert unlabeled <= seen_unlabeled


def test_written_unlabeled_examples_read_back(tmp_path):
    path, ids, images, labels = write_tiny_dataset(tmp_path, count=12)
    labels = labels.copy()
    labels[[1, 5]] = data_format.UNLABELED
    data_format.write_dataset(path, ids, images, labels, num_class=4)
    with h5py.File(os.path.join(path, "data.hy"), "r") as f:
        assert "label" not in f[ids[1]] and "label" in f[ids[0]]
        assert int(f.attrs["num_classes"]) == 4
    dataset = data_format.load_dataset(str(tmp_path), "tiny")
    np.testing.assert_array_equal(dataset.labels, labels)


def test_a_file_without_any_label_is_refused(tmp_path):
    examples = good_examples(count=4)
    path = str(tmp_path / "own")
    write_original_style(path, examples)
    with h5py.File(os.path.join(path, "data.hy"), "a") as f:
        for example_id in examples:
            del f[example_id]["label"]
    expect_error(tmp_path, "data.hy", "no example has a label")


def test_labels_of_differing_length(tmp_path):
    examples = good_examples()
    examples["7"] = (examples["7"][0], np.asarray([0.0, 1.0, 0.0, 0.0]))
    write_original_style(str(tmp_path / "own"), examples)
    expect_error(tmp_path, "data.hy", "'7'", "label")


def test_corrupt_hdf5(tmp_path):
    write_original_style(str(tmp_path / "own"), good_examples())
    with open(tmp_path / "own" / "data.hy", "wb") as f:
        f.write(b"this is not an HDF5 file" * 100)
    expect_error(tmp_path, "data.hy", "corrupt or truncated")


def test_truncated_hdf5(tmp_path):
    path, _, _, _ = write_tiny_dataset(tmp_path, name="own", count=200)
    import shutil
    shutil.rmtree(os.path.join(path, ".cache"))
    data_file = os.path.join(path, "data.hy")
    size = os.path.getsize(data_file)
    with open(data_file, "r+b") as f:
        f.truncate(size // 2)
    expect_error(tmp_path, "data.hy", "corrupt or truncated")


def test_flipped_bytes_are_reported_as_damage_not_as_absent_ids(tmp_path):
    """Bytes flipped anywhere in the file: every failure to read is called
    damage of the file, never an absent id or a missing dataset."""
    path, _, _, _ = write_tiny_dataset(tmp_path, count=60)
    data_file = os.path.join(path, "data.hy")
    original = open(data_file, "rb").read()
    messages = []
    for offset in range(0, len(original), len(original) // 60):
        damaged = bytearray(original)
        damaged[offset:offset + 8] = bytes(b ^ 0xFF for b in
                                           damaged[offset:offset + 8])
        open(data_file, "wb").write(bytes(damaged))
        shutil.rmtree(os.path.join(path, ".cache"), ignore_errors=True)
        try:
            data_format.load_dataset(str(tmp_path), "tiny")
        except UserError as e:
            messages.append(str(e))
    assert len(messages) > 30
    for message in messages:
        assert "damaged" in message or "not a readable HDF5" in message, \
            message


def test_a_flipped_name_in_the_table_of_names_is_damage(tmp_path):
    """A flipped byte in one group's name (a file written as the original
    did, without checksums): the file lists a name id.txt does not have, so
    the missing id is blamed on the file, not on id.txt."""
    examples = {f"id{i:03d}": value for i, value in
                enumerate(good_examples(20).values())}
    path = str(tmp_path / "own")
    write_original_style(path, examples)
    data_file = os.path.join(path, "data.hy")
    content = bytearray(open(data_file, "rb").read())
    offset = content.find(b"id013")
    assert offset >= 0
    content[offset + 2] ^= 0x40  # id013 -> idp13
    open(data_file, "wb").write(bytes(content))
    with pytest.raises(UserError) as info:
        data_format.load_dataset(str(tmp_path), "own")
    message = str(info.value)
    assert "'id013'" in message and "'idp13'" in message, message
    assert "damaged" in message and "absent" not in message, message


def test_unknown_ids_in_a_selection_are_listed(tmp_path):
    write_tiny_dataset(tmp_path)
    dataset = data_format.load_dataset(str(tmp_path), "tiny")
    with pytest.raises(UserError) as info:
        data_format.select_ids(dataset, ["ex0001", "nope1", "nope2"],
                               "--data_id")
    assert "--data_id" in str(info.value) and "'nope1'" in str(info.value)


def test_write_is_atomic_when_interrupted(tmp_path, monkeypatch):
    path, _, images, labels = write_tiny_dataset(tmp_path, name="own")
    before = open(os.path.join(path, "data.hy"), "rb").read()

    def explode(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(data_format.files, "write_lines", explode)
    with pytest.raises(KeyboardInterrupt):
        data_format.write_dataset(path, [f"n{i}" for i in range(40)], images,
                                  labels)
    assert open(os.path.join(path, "data.hy"), "rb").read() == before
    assert not [n for n in os.listdir(path) if "tmp" in n]  # no leftovers


# ------------------------------------------------------- datasets on disk


def test_a_split_is_rows_of_the_cache_not_a_copy(tmp_path):
    """A split, its labeled part and a subset are row numbers into the one
    cache file: training reads the images from disk however large."""
    write_tiny_dataset(tmp_path, count=40)
    train, test = splits.train_and_test(str(tmp_path), "tiny")
    whole = data_format.load_dataset(str(tmp_path), "tiny")
    assert isinstance(whole.images.base, rows_lib.ImageFile)
    position = {example_id: i for i, example_id in enumerate(whole.ids)}
    for split in (train, test, train.take([3, 1]), test.labeled_only()):
        assert isinstance(split.images, rows_lib.ImageRows)
        assert isinstance(split.images.base, rows_lib.ImageFile)
        np.testing.assert_array_equal(
            split.images.rows, [position[i] for i in split.ids])
        np.testing.assert_array_equal(
            np.asarray(split.images),
            np.asarray(whole.images)[[position[i] for i in split.ids]])


def test_a_dataset_written_in_chunks_equals_one_written_at_once(tmp_path):
    _, ids, images, labels = write_tiny_dataset(tmp_path / "once", count=40)
    labels = labels.copy()
    labels[[2, 17]] = data_format.UNLABELED
    data_format.write_dataset(str(tmp_path / "once" / "tiny"), ids, images,
                              labels, num_class=4, class_names="abcd")
    path = str(tmp_path / "chunks" / "tiny")
    with data_format.DatasetWriter(path, 40, images.shape[1:], 4,
                                   class_names="abcd") as writer:
        for start in range(0, 40, 7):
            writer.add(ids[start:start + 7], images[start:start + 7],
                       labels[start:start + 7])
        writer.commit()
    once = data_format.load_dataset(str(tmp_path / "once"), "tiny")
    chunked = data_format.load_dataset(str(tmp_path / "chunks"), "tiny")
    assert chunked.ids == once.ids and chunked.class_names == list("abcd")
    np.testing.assert_array_equal(chunked.images, once.images)
    np.testing.assert_array_equal(chunked.labels, once.labels)
    shutil.rmtree(os.path.join(path, ".cache"))  # the HDF5 file itself
    again = data_format.load_dataset(str(tmp_path / "chunks"), "tiny")
    np.testing.assert_array_equal(again.images, once.images)
    np.testing.assert_array_equal(again.labels, once.labels)


@pytest.mark.parametrize("existing", [True, False])
def test_a_writer_left_without_commit_changes_nothing(tmp_path, existing):
    if existing:
        path, ids, images, labels = write_tiny_dataset(tmp_path, count=12)
    else:
        _, ids, images, labels = write_tiny_dataset(tmp_path / "src", count=12)
        path = str(tmp_path / "tiny")
    before = {name: open(os.path.join(path, name), "rb").read()
              for name in sorted(os.listdir(path))
              if os.path.isfile(os.path.join(path, name))} if existing else {}
    with pytest.raises(KeyboardInterrupt):
        with data_format.DatasetWriter(path, 12, images.shape[1:], 4) as w:
            w.add(ids[:6], images[:6], labels[:6])
            raise KeyboardInterrupt
    if not existing:
        assert not os.path.exists(path)
        return
    after = {name: open(os.path.join(path, name), "rb").read()
             for name in sorted(os.listdir(path))
             if os.path.isfile(os.path.join(path, name))}
    assert after == before
    assert not [n for n in os.listdir(os.path.join(path, ".cache"))
                if "tmp" in n]
    assert len(data_format.load_dataset(str(tmp_path), "tiny")) == 12


KILLED_WRITER = """
import os, signal, sys
import numpy as np
from ssgan_tf.data import format as data_format
writer = data_format.DatasetWriter(sys.argv[1], 8, (4, 4, 1), 2)
writer.add([f"k{i}" for i in range(4)], np.zeros((4, 4, 4, 1), np.uint8),
           [0, 1, 0, 1])
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_writers_temporaries_go_with_the_next_write(tmp_path):
    """A conversion killed midway leaves its hidden temporaries (data.hy's
    and the cache's); the next one that succeeds removes them."""
    import signal
    import subprocess
    import sys
    from conftest import ROOT
    path = tmp_path / "own"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)],
                            env=dict(os.environ, PYTHONPATH=ROOT), check=False)
    assert killed.returncode == -signal.SIGKILL

    def temporaries():
        return sorted(n for folder in (path, path / ".cache")
                      for n in os.listdir(folder) if ".tmp" in n)
    left = temporaries()
    assert any(n.startswith(".data.hy.") for n in left)
    assert any(n.startswith(".images.") for n in left)
    data_format.write_dataset(str(path), ["a", "b"],
                              np.zeros((2, 4, 4, 1), np.uint8), [0, 1],
                              num_class=2)
    assert temporaries() == []
    assert len(data_format.load_dataset(str(tmp_path), "own")) == 2
