"""The SSGAN-Tensorflow dataset format: `data.hy` (HDF5) and `id.txt`, plus splits.

A dataset is a folder `<dataset_dir>/<NAME>/` holding
  - `data.hy` (or `data.hdf5`, the name the original downloader wrote): one HDF5
    group per id, each with `image` (uint8, [h, w, c]) and `label` (one-hot).
    An example without `label` (or with an all-zero one) is unlabeled: it
    joins the unlabeled stream only, never the labeled set or a test split;
  - `id.txt`: the ids, one per line;
  - optionally `id_train.txt` and `id_test.txt`: the official split, where the
    downloader knows it (one of them alone: the other split is the rest of
    id.txt). Without them the original rule applies: id.txt shuffled by
    `numpy.random.RandomState(123)`, the first 80% train, the rest test; a
    folder's conversion and --add_labels write that split down, so that
    labels added later move no image between train and test.

Reading the file one group at a time is slow (about 13 s for MNIST), so the
arrays are also kept contiguously in `.cache/` beside the data and rebuilt
whenever `data.hy` or `id.txt` changes; training reads its rows from there on
demand (rows.ImageFile), so memory never holds the whole dataset.
"""

import contextlib
import dataclasses
import json
import os
from typing import Dict, List, Optional, Sequence

import h5py
import numpy as np

from ssgan_tf import files
from ssgan_tf.data import cache as cache_lib
from ssgan_tf.data.cache import CACHE_DIR
from ssgan_tf.data.rows import ImageRows
from ssgan_tf.errors import UserError

DATA_FILE_NAMES = ("data.hy", "data.hdf5")  # written: the first; read: either
ID_FILE = "id.txt"
SPLIT_FILES = {"train": "id_train.txt", "test": "id_test.txt"}
UNLABELED = -1  # the label of an example that has none
SPLIT_SEED = 123  # the original's RandomState seed for the 80/20 split
TRAIN_FRACTION = 0.8
_READ_CHUNK = 1024  # examples read from data.hy between writes to the cache


@dataclasses.dataclass(frozen=True)
class ArrayDataset:
    """Images and labels of one dataset (or one split of it), in id order.

    Attributes:
      name: the dataset's folder name.
      ids: the ids, a list of str.
      images: uint8 [n, h, w, c]: rows of the cache file, read on demand
        (`ImageRows` of an `ImageFile`), or of an array in memory.
      labels: int64 array [n] of class indices, UNLABELED (-1) for an
        example without a label.
      num_class: the length of the one-hot label vectors.
      class_names: names of the classes where the file records them, else None.
    """

    name: str
    ids: List[str]
    images: np.ndarray
    labels: np.ndarray
    num_class: int
    class_names: Optional[List[str]] = None

    def __len__(self):
        return len(self.ids)

    @property
    def image_shape(self):
        return tuple(int(d) for d in self.images.shape[1:])

    @property
    def num_unlabeled(self) -> int:
        return int(np.sum(np.asarray(self.labels) == UNLABELED))

    def labeled_only(self) -> "ArrayDataset":
        """The examples that have a label."""
        if not self.num_unlabeled:
            return self
        return self.take(np.flatnonzero(np.asarray(self.labels) != UNLABELED))

    def take(self, indices) -> "ArrayDataset":
        """A new ArrayDataset of the examples at `indices` (in that order);
        its images are rows of these, not a copy (read when used)."""
        indices = np.asarray(indices, dtype=np.int64)
        return dataclasses.replace(
            self,
            ids=[self.ids[i] for i in indices],
            images=ImageRows(self.images, indices),
            labels=np.asarray(self.labels)[indices])


def dataset_path(dataset_dir: str, name: str) -> str:
    """The folder of dataset `name` (or `name.lower()`, the original's folder
    names such as `mnist`), checked to exist."""
    for candidate in (name, name.lower()):
        path = os.path.join(dataset_dir, candidate)
        if os.path.isdir(path):
            return path
    path = os.path.join(dataset_dir, name)
    raise UserError(
        f"dataset folder {path} not found: run `python download.py --dataset "
        f"{name}` or point --dataset_dir at the folder holding {name}/")


def find_data_file(path: str) -> str:
    """`data.hy`, or `data.hdf5` as the original downloader named it."""
    for file_name in DATA_FILE_NAMES:
        candidate = os.path.join(path, file_name)
        if os.path.isfile(candidate):
            return candidate
    raise UserError(f"{os.path.join(path, DATA_FILE_NAMES[0])}: file not found "
                    f"(nor {DATA_FILE_NAMES[1]})")


def read_ids(file_path: str) -> List[str]:
    """Ids listed one per line, each once; blank lines are skipped."""
    if not os.path.isfile(file_path):
        raise UserError(f"{file_path}: file not found")
    ids, first_line = [], {}
    with open(file_path, encoding="utf-8") as f:
        try:
            lines = list(f)
        except UnicodeDecodeError:
            raise UserError(f"{file_path}: not a UTF-8 text file of ids, one "
                            f"per line (damaged?)") from None
    for number, line in enumerate(lines, 1):
        example_id = line.strip()
        if not example_id:
            continue
        if example_id in first_line:
            raise UserError(f"{file_path}: id {example_id!r} is listed "
                            f"twice (lines {first_line[example_id]} and "
                            f"{number})")
        first_line[example_id] = number
        ids.append(example_id)
    if not ids:
        raise UserError(f"{file_path}: lists no ids")
    return ids


def write_dataset(path: str, ids: Sequence[str], images: np.ndarray,
                  labels: np.ndarray, num_class: Optional[int] = None,
                  class_names: Optional[Sequence[str]] = None,
                  splits: Optional[Dict[str, Sequence[str]]] = None) -> str:
    """Writes `data.hy` and `id.txt` (and the split files) into folder `path`.

    The file is written under a temporary name and renamed last, so an
    interrupted write never leaves a half-written `data.hy`. (For a dataset
    that does not fit in memory, write it in chunks with DatasetWriter.)

    Args:
      path: the dataset folder (created if missing).
      ids: one str per example; must not contain '/'.
      images: uint8 [n, h, w, c].
      labels: int [n] class indices; UNLABELED (-1) writes no `label`.
      num_class: length of the one-hot vectors (default: max label + 1, or the
        number of class names).
      class_names: stored as the file's `class_names` attribute.
      splits: optional {"train": ids, "test": ids}, written as id_train.txt and
        id_test.txt.

    Returns:
      The path of the written data.hy.
    """
    images = np.ascontiguousarray(images)
    labels = np.asarray(labels, dtype=np.int64)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"images must be uint8 [n, h, w, c], got "
                         f"{images.dtype} {images.shape}")
    if len(ids) != len(images) or len(labels) != len(images):
        raise ValueError("ids, images and labels differ in length")
    if num_class is None:
        num_class = len(class_names) if class_names else int(labels.max()) + 1
    with DatasetWriter(path, len(ids), images.shape[1:], num_class,
                       class_names) as writer:
        writer.add(ids, images, labels)
        return writer.commit(splits)


class DatasetWriter:
    """Writes a dataset folder chunk by chunk: `data.hy`'s groups and the
    cache's image array grow with each `add`, so memory holds one chunk
    whatever the dataset's size.

    Nothing changes in the folder until `commit`: the files are written under
    temporary names and renamed last. Leaving the `with` block without a
    commit (an error, Ctrl-C) removes them and leaves the folder as it was.
    """

    def __init__(self, path: str, count: int, image_shape, num_class: int,
                 class_names: Optional[Sequence[str]] = None):
        self.path, self.count = path, count
        self._image_shape = tuple(image_shape)
        self.num_class = num_class
        self.class_names = list(class_names) if class_names else None
        self.ids: List[str] = []
        self.labels = np.full(count, UNLABELED, np.int64)
        # Folders this writer makes go again if it does not commit.
        self._made = [p for p in (path, os.path.join(path, CACHE_DIR))
                      if not os.path.isdir(p)]
        os.makedirs(path, exist_ok=True)
        self.data_file = os.path.join(path, DATA_FILE_NAMES[0])
        self._stack = contextlib.ExitStack()
        self._file = None
        try:
            tmp = self._stack.enter_context(files.atomic_path(self.data_file))
            self._file = h5py.File(tmp, "w", libver="latest")
            if self.class_names:
                self._file.attrs["class_names"] = json.dumps(self.class_names)
            self._file.attrs["num_classes"] = num_class
            self._cache = cache_lib.CacheWriter(path, count, tuple(image_shape))
        except BaseException as e:
            self._abort(e)
            if files.out_of_space(e):
                raise files.no_space(path, 2 * count * int(np.prod(
                    image_shape))) from None
            raise

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if self._file is not None:  # not committed: nothing is kept
            self._abort(error or RuntimeError("not committed"))
        if error is not None and files.out_of_space(error):
            # data.hy and the cache each hold the images once
            raise files.no_space(self.path, 2 * self.count * int(np.prod(
                self._image_shape))) from None
        return False

    def _abort(self, error: BaseException):
        if self._file is not None:
            self._file.close()
            self._file = None
        if getattr(self, "_cache", None) is not None:
            self._cache.abort()
        try:
            self._stack.__exit__(type(error), error, error.__traceback__)
        except BaseException:  # pylint: disable=broad-except
            pass  # (atomic_path re-raises the error it was handed)
        for folder in reversed(self._made):
            try:
                os.rmdir(folder)
            except OSError:
                pass

    def add(self, ids: Sequence[str], images: np.ndarray, labels):
        """Appends the next examples: ids, uint8 images [k, h, w, c] and
        class indices (UNLABELED: none)."""
        start = len(self.ids)
        if start + len(ids) > self.count:
            raise ValueError(f"more than the {self.count} examples announced")
        labels = np.asarray(labels, np.int64)
        self.ids.extend(str(i) for i in ids)
        self.labels[start:start + len(ids)] = labels
        one_hot = np.zeros((len(labels), self.num_class), np.uint8)
        labeled = labels != UNLABELED
        one_hot[np.flatnonzero(labeled), labels[labeled]] = 1
        _write_groups(self._file, ids, images, one_hot)
        self._cache.write(start, images)

    def commit(self, splits: Optional[Dict[str, Sequence[str]]] = None) -> str:
        """Puts the dataset in place (data.hy renamed last); returns its path."""
        if len(self.ids) < self.count:  # some announced were not added
            self.count = len(self.ids)
            self.labels = self.labels[:self.count]
            self._cache.shrink(self.count)
        if not (self.labels != UNLABELED).any():
            raise ValueError("no example has a label")
        self._file.close()
        self._file = None
        try:
            self._cache.invalidate()
            files.write_lines(os.path.join(self.path, ID_FILE), self.ids)
            for split, file_name in SPLIT_FILES.items():
                split_file = os.path.join(self.path, file_name)
                if splits is not None and splits[split]:
                    files.write_lines(split_file, splits[split])
                elif os.path.exists(split_file):
                    # a stale split would not match; an empty one is the
                    # rest of id.txt that the other file does not list
                    os.remove(split_file)
        except BaseException as e:
            self._abort(e)
            raise
        self._stack.close()  # data.hy renamed into place
        for name in DATA_FILE_NAMES:  # what a killed writer left
            files.remove_temporaries(self.path, name)
        for other in DATA_FILE_NAMES[1:]:
            if os.path.exists(os.path.join(self.path, other)):
                os.remove(os.path.join(self.path, other))
        try:
            self._cache.commit(self.data_file, self.ids, self.labels,
                               self.num_class, self.class_names)
        except OSError:
            pass  # the dataset stands; its cache is rebuilt when next loaded
        return self.data_file


def _write_groups(f, ids, images, one_hot):
    """One group per id with compact `image` and `label` datasets (no
    `label` for an unlabeled example: its one-hot row is all zero).

    h5py's low-level API and the compact layout (the bytes live in the object
    header, no separate allocation) make this several times faster than the
    original's `f.create_group(id)['image'] = ...` loop.
    """
    file_id = f.id
    image_space = h5py.h5s.create_simple(images.shape[1:])
    label_space = h5py.h5s.create_simple(one_hot.shape[1:])
    compact = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    compact.set_layout(h5py.h5d.COMPACT)
    u8 = h5py.h5t.STD_U8LE
    for index, example_id in enumerate(ids):
        group = h5py.h5g.create(file_id, str(example_id).encode())
        image = h5py.h5d.create(group, b"image", u8, image_space, dcpl=compact)
        image.write(h5py.h5s.ALL, h5py.h5s.ALL,
                    np.ascontiguousarray(images[index]))
        if not one_hot[index].any():
            continue
        label = h5py.h5d.create(group, b"label", u8, label_space, dcpl=compact)
        label.write(h5py.h5s.ALL, h5py.h5s.ALL, one_hot[index])


def _read_groups(data_file, ids, path):
    """Reads and validates every listed id, one group at a time, the images
    straight into a new cache of folder `path` (a _CacheWriter, returned
    uncommitted, with the labels, num_class and class names). An example
    with no `label` dataset, or an all-zero label, is unlabeled (label -1)."""
    made = []  # the cache, made once the first image gives the shape
    try:
        labels, num_class, class_names = _read_groups_into(data_file, ids,
                                                           path, made)
        return made[0], labels, num_class, class_names
    except BaseException:
        for cache in made:
            cache.abort()
        raise


def _read_groups_into(data_file, ids, path, made):
    try:
        f = h5py.File(data_file, "r")
    except OSError as e:
        raise UserError(f"{data_file}: not a readable HDF5 file (corrupt or "
                        f"truncated?): {e}") from None
    with f:
        class_names = f.attrs.get("class_names")
        class_names = json.loads(class_names) if class_names is not None else None
        num_classes = f.attrs.get("num_classes")
        file_id = f.id
        images = labels = None
        example_id = ids[0]
        try:
            for index, example_id in enumerate(ids):
                key = example_id.encode()
                if example_id not in f:
                    raise UserError(_absent_or_damaged(f, data_file,
                                                       example_id, ids))
                image = h5py.h5d.open(file_id, key + b"/image")
                if images is None:
                    _check_rank(data_file, example_id, image)
                    made.append(cache_lib.CacheWriter(path, len(ids), image.shape))
                    images = np.empty((_READ_CHUNK,) + image.shape, np.uint8)
                _check_image(data_file, example_id, image, images.shape[1:])
                image.read(h5py.h5s.ALL, h5py.h5s.ALL,
                           images[index % _READ_CHUNK])
                if index % _READ_CHUNK == _READ_CHUNK - 1 or \
                        index == len(ids) - 1:  # a chunk to the cache
                    first = index - index % _READ_CHUNK
                    made[0].write(first, images[:index - first + 1])
                label = _open_label(f, file_id, data_file, example_id)
                if label is None:
                    continue  # unlabeled: its row stays all zero
                if labels is None:
                    labels = _label_buffer(data_file, example_id, label,
                                           len(ids))
                _check_label(data_file, example_id, label, labels.shape[1])
                label.read(h5py.h5s.ALL, h5py.h5s.ALL, labels[index])
        except KeyError:
            raise UserError(_members_missing_or_damaged(
                f, data_file, example_id)) from None
        except (OSError, RuntimeError) as e:
            if files.out_of_space(e):
                raise
            raise UserError(f"{data_file}: the file is damaged: cannot read "
                            f"id '{example_id}' ({e}); rebuild or download "
                            f"the dataset again") from None
    if labels is None:
        raise UserError(f"{data_file}: no example has a label; a dataset "
                        f"needs labeled examples beside unlabeled ones")
    unlabeled = ~labels.any(axis=1)
    not_one_hot = ~(np.isin(labels, (0.0, 1.0)).all(axis=1)
                    & (labels.sum(axis=1) == 1)) & ~unlabeled
    if not_one_hot.any():
        bad = ids[int(np.argmax(not_one_hot))]
        raise UserError(f"{data_file}: label of id '{bad}' is not one-hot")
    classes = labels.argmax(axis=1).astype(np.int64)
    classes[unlabeled] = UNLABELED
    num_class = labels.shape[1]
    if num_classes is not None and int(num_classes) != num_class:
        raise UserError(f"{data_file}: labels have {num_class} entries but the "
                        f"file's num_classes is {int(num_classes)}")
    return classes, num_class, class_names


def _open_label(f, file_id, data_file, example_id):
    """The `label` dataset of an example, or None where it has none."""
    try:
        return h5py.h5d.open(file_id, example_id.encode() + b"/label")
    except KeyError:
        try:
            members = set(f[example_id].keys())
        except Exception:  # pylint: disable=broad-except
            raise UserError(_damaged(data_file, example_id)) from None
        if "label" in members:
            raise UserError(_damaged(data_file, example_id)) from None
        return None


def _damaged(data_file, example_id):
    return (f"{data_file}: the file is damaged: id '{example_id}' is in it but "
            f"cannot be read; rebuild or download the dataset again")


def _absent_or_damaged(f, data_file, example_id, ids) -> str:
    """An id the file's index did not find: truly absent, or lost to damage
    (then listing the file's ids fails, or lists it, or lists names id.txt
    does not have where id.txt's are missing: a damaged table of names)."""
    try:
        names = set(f.keys())
    except Exception:  # pylint: disable=broad-except
        return _damaged(data_file, example_id)  # the index does not read back
    if example_id in names:
        return _damaged(data_file, example_id)
    strangers = sorted(names - set(ids))
    if strangers:
        shown = ", ".join(repr(n) for n in strangers[:3])
        return (f"{data_file}: id '{example_id}' of id.txt is not in the file, "
                f"which holds {len(strangers)} name(s) id.txt does not list "
                f"(e.g. {shown}): the file's table of names is damaged, or "
                f"id.txt belongs to another file; rebuild or download the "
                f"dataset again")
    return (f"{data_file}: id '{example_id}' is listed in id.txt but absent "
            f"from the file")


def _members_missing_or_damaged(f, data_file, example_id) -> str:
    """A group whose `image` did not open: missing, or damaged."""
    try:
        members = set(f[example_id].keys())
    except Exception:  # pylint: disable=broad-except
        members = {"image"}
    if "image" in members:
        return _damaged(data_file, example_id)
    return f"{data_file}: id '{example_id}' has no `image` dataset"


def _check_rank(data_file, example_id, image):
    if len(image.shape) != 3:
        raise UserError(f"{data_file}: image of id '{example_id}' has shape "
                        f"{image.shape}; expected rank 3 [h, w, c]")


def _label_buffer(data_file, example_id, label, count):
    if len(label.shape) != 1:
        raise UserError(f"{data_file}: label of id '{example_id}' has shape "
                        f"{label.shape}; expected a one-hot vector")
    return np.zeros((count, label.shape[0]), np.float64)


def _check_image(data_file, example_id, image, image_shape):
    if image.dtype != np.uint8:
        raise UserError(f"{data_file}: image of id '{example_id}' is "
                        f"{image.dtype}; expected uint8")
    if image.shape != image_shape:
        raise UserError(f"{data_file}: image of id '{example_id}' has shape "
                        f"{image.shape}, others {image_shape}; all images must "
                        f"share one shape of rank 3")


def _check_label(data_file, example_id, label, label_length):
    if label.shape != (label_length,):
        raise UserError(f"{data_file}: label of id '{example_id}' has shape "
                        f"{label.shape}, others ({label_length},); labels must "
                        f"be one-hot vectors of one length")


def load_dataset(dataset_dir: str, name: str) -> ArrayDataset:
    """Every id of id.txt, in its order, as arrays (from the cache when fresh)."""
    path = dataset_path(dataset_dir, name)
    ids = read_ids(os.path.join(path, ID_FILE))
    data_file = find_data_file(path)
    cached = cache_lib.read(path, data_file, ids)
    if cached is None:
        try:
            cache, labels, num_class, class_names = _read_groups(data_file,
                                                                  ids, path)
            images = cache.commit(data_file, ids, labels, num_class,
                                  class_names)
        except OSError as e:
            if not files.out_of_space(e):
                raise
            raise files.no_space(os.path.join(path, CACHE_DIR),
                                 os.path.getsize(data_file)) from None
    else:
        images, labels, num_class, class_names = cached
    return ArrayDataset(name=name, ids=ids, images=images, labels=labels,
                        num_class=int(num_class), class_names=class_names)


def write_images(path: str, images: np.ndarray):
    """The original's `g_img` dump: an HDF5 file with one `image` dataset."""
    with files.atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f["image"] = images


def split_ids(path: str, ids: Sequence[str]) -> Dict[str, List[str]]:
    """The train and test ids: the recorded split, else the 80/20 rule.

    With one split file alone, the other split is every id of id.txt it does
    not list (in id.txt's order). Split files that share ids are an error: a
    test image must never be trained on.
    """
    split_files = {s: os.path.join(path, f) for s, f in SPLIT_FILES.items()}
    present = {s: os.path.isfile(f) for s, f in split_files.items()}
    if not any(present.values()):
        return rule_split(ids)
    splits = {s: read_ids(f) for s, f in split_files.items() if present[s]}
    if len(splits) == 1:
        (given, listed), = splits.items()
        other = "test" if given == "train" else "train"
        chosen = set(listed)
        splits[other] = [i for i in ids if i not in chosen]
    shared = set(splits["train"]) & set(splits["test"])
    if shared:
        shown = ", ".join(repr(i) for i in sorted(shared)[:5])
        raise UserError(f"{split_files['train']} and {split_files['test']} "
                        f"share {len(shared)} id(s), e.g. {shown}: a test "
                        f"image must not be trained on")
    return splits


def rule_split(ids: Sequence[str]) -> Dict[str, List[str]]:
    """The original's 80/20 rule: the ids shuffled by
    RandomState(SPLIT_SEED), the first 80% train, the rest test."""
    shuffled = list(ids)
    np.random.RandomState(SPLIT_SEED).shuffle(shuffled)
    num_train = int(len(shuffled) * TRAIN_FRACTION)
    return {"train": shuffled[:num_train], "test": shuffled[num_train:]}


def unlabeled_to_train(splits: Dict[str, List[str]], ids: Sequence[str],
                       labels) -> Dict[str, List[str]]:
    """`splits` with the unlabeled examples listed in test moved to the end
    of train: an example without a label can only be trained on."""
    unlabeled = {ids[i] for i in np.flatnonzero(np.asarray(labels)
                                                == UNLABELED)}
    moved = [i for i in splits["test"] if i in unlabeled]
    if not moved:
        return splits
    return {"train": list(splits["train"]) + moved,
            "test": [i for i in splits["test"] if i not in unlabeled]}


def record_split(path: str, dataset: ArrayDataset) -> bool:
    """Writes the split that `dataset` (at `path`) is read with now into
    id_train.txt and id_test.txt when it has no split file: labels added
    later then move no image between train and test. True if written."""
    if any(os.path.isfile(os.path.join(path, f))
           for f in SPLIT_FILES.values()):
        return False
    splits = unlabeled_to_train(rule_split(dataset.ids), dataset.ids,
                                dataset.labels)
    for split, file_name in SPLIT_FILES.items():
        if splits[split]:  # an empty split: the rest of id.txt
            files.write_lines(os.path.join(path, file_name), splits[split])
    return True


def select_ids(dataset: ArrayDataset, wanted: Sequence[str],
               source: str) -> ArrayDataset:
    """The examples with ids `wanted`, in that order; unknown ids are an error.

    Args:
      dataset: the whole dataset.
      wanted: the ids to keep.
      source: where `wanted` came from (a file or a flag), for the error message.
    """
    position = {example_id: i for i, example_id in enumerate(dataset.ids)}
    missing = [example_id for example_id in wanted if example_id not in position]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise UserError(f"{source}: {len(missing)} id(s) not in dataset "
                        f"'{dataset.name}': {shown}{more}")
    return dataset.take([position[example_id] for example_id in wanted])


def load_split(dataset_dir: str, name: str, split: str) -> ArrayDataset:
    """The labeled examples of one split ("train" or "test") of a dataset."""
    if split not in SPLIT_FILES:
        raise UserError(f"--split {split}: expected one of {sorted(SPLIT_FILES)}")
    dataset = load_dataset(dataset_dir, name)
    path = dataset_path(dataset_dir, name)
    source = os.path.join(path, SPLIT_FILES[split])
    return select_ids(dataset, split_ids(path, dataset.ids)[split],
                      source).labeled_only()
