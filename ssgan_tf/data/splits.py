"""The training and test examples of a run, and its labeled subset."""

import os
from typing import Optional, Tuple

import numpy as np

from ssgan_tf.data import format as data_format
from ssgan_tf.errors import UserError


# A run folder's record of its split: the ids it trains and tests on.
RUN_SPLIT_FILES = {"train": "train_ids.txt", "test": "test_ids.txt"}
LABELED_IDS_FILE = "labeled_ids.txt"  # a run's labeled examples


def train_and_test(dataset_dir: str, name: str, max_sample: int = 0,
                   batch_size: int = 1, run_dir: Optional[str] = None
                   ) -> Tuple[data_format.ArrayDataset,
                              data_format.ArrayDataset]:
    """(train, test) of a dataset; train limited to its first `max_sample`
    examples (0: all) and at least one batch long. Unlabeled examples are
    all training examples, whichever split lists them: test has labels.

    With `run_dir`, a run folder that recorded its split (RUN_SPLIT_FILES),
    the split is the run's: the dataset must still hold every one of its
    ids."""
    dataset = data_format.load_dataset(dataset_dir, name)
    recorded = run_split(dataset, run_dir) if run_dir else None
    if recorded is not None:
        return recorded
    path = data_format.dataset_path(dataset_dir, name)
    splits = data_format.split_ids(path, dataset.ids)
    splits = data_format.unlabeled_to_train(splits, dataset.ids,
                                            dataset.labels)
    train = data_format.select_ids(dataset, splits["train"],
                                   os.path.join(path, "id_train.txt"))
    test = data_format.select_ids(dataset, splits["test"],
                                  os.path.join(path, "id_test.txt"))
    if max_sample and max_sample < len(train):
        train = train.take(np.arange(max_sample))
    if len(train) < batch_size:
        raise UserError(f"--batch_size {batch_size}: the training split of "
                        f"{name} has only {len(train)} examples")
    return train, test


def run_split(dataset: data_format.ArrayDataset, run_dir: str):
    """(train, test) by the ids `run_dir` recorded, or None if it recorded
    none (a run of an earlier version)."""
    paths = {split: os.path.join(run_dir, file_name)
             for split, file_name in RUN_SPLIT_FILES.items()}
    if not all(os.path.isfile(path) for path in paths.values()):
        return None
    return tuple(data_format.select_ids(
        dataset, data_format.read_ids(paths[split]), paths[split])
        for split in ("train", "test"))


def choose_labeled(labels: np.ndarray, num_labeled: int, num_class: int,
                   seed: int) -> np.ndarray:
    """Indices of a class-balanced labeled subset: num_labeled / num_class
    examples of each class, drawn by `seed`, returned sorted.

    0 (or every example that has a label) means every example that has a
    label; unlabeled examples (label -1) are never chosen.
    """
    labels = np.asarray(labels)
    has_label = np.flatnonzero(labels != data_format.UNLABELED)
    if num_labeled == 0 or num_labeled == len(has_label):
        return has_label
    if num_labeled > len(has_label):
        raise UserError(f"--num_labeled {num_labeled}: the training split has "
                        f"only {len(has_label)} labeled examples")
    if num_labeled % num_class:
        raise UserError(f"--num_labeled {num_labeled}: must divide evenly among "
                        f"the {num_class} classes (class-balanced subset); try "
                        f"{num_labeled // num_class * num_class or num_class}")
    per_class = num_labeled // num_class
    rng = np.random.RandomState(seed)
    chosen = []
    for label in range(num_class):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise UserError(f"--num_labeled {num_labeled}: class {label} has "
                            f"only {len(members)} training examples, "
                            f"{per_class} needed")
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def labeled_indices(train: data_format.ArrayDataset, num_labeled: int,
                    seed: int, labeled_ids_file: Optional[str] = None,
                    source: Optional[str] = None) -> np.ndarray:
    """The labeled subset of `train`, as sorted indices: the ids listed in
    `labeled_ids_file` (`source` names it in errors; default: the
    --labeled_ids flag), else a class-balanced draw of `num_labeled`."""
    if not labeled_ids_file:
        return choose_labeled(train.labels, num_labeled, train.num_class, seed)
    source = source or f"--labeled_ids {labeled_ids_file}"
    wanted = data_format.read_ids(labeled_ids_file)
    position = {example_id: i for i, example_id in enumerate(train.ids)}
    unknown = [i for i in wanted if i not in position]
    if unknown:
        raise UserError(f"{source}: {len(unknown)} "
                        f"id(s) not in the training split, e.g. "
                        f"{unknown[0]!r}")
    without = [i for i in wanted
               if train.labels[position[i]] == data_format.UNLABELED]
    if without:
        raise UserError(f"{source}: {len(without)} "
                        f"id(s) have no label, e.g. {without[0]!r}")
    return np.sort(np.asarray([position[i] for i in wanted], np.int64))
