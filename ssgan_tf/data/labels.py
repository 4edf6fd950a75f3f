"""Taking labels back: a filled-in suggestion CSV (evaler.py --suggest)
written into a dataset's data.hy."""

import csv
import os
import shutil
from typing import Dict

import h5py
import numpy as np

from ssgan_tf import files
from ssgan_tf.data import cache as cache_lib, format as data_format
from ssgan_tf.errors import UserError


def read_label_file(path: str, class_names, num_class: int) -> Dict[str, int]:
    """{id: class index} of the rows of CSV `path` whose `label` is filled
    in (a class name, or an index 0..N-1); lines starting with # are
    comments. Separated by commas, or by semicolons or tabs as spreadsheets
    in many locales save it; a byte-order mark is skipped. Every problem is
    an error naming the file and line."""
    if not os.path.isfile(path):
        raise UserError(f"--add_labels {path}: file not found")
    names = [str(n) for n in (class_names or range(num_class))]
    by_name = {name: index for index, name in enumerate(names)}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            lines = [(number, line) for number, line in enumerate(f, 1)
                     if line.strip() and not line.lstrip().startswith("#")]
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file (save it as CSV "
                        f"UTF-8)") from None
    first = lines[0][1] if lines else ""
    delimiter = max(",;\t", key=first.count)
    rows = csv.reader((line for _, line in lines), delimiter=delimiter)
    header = next(rows, None)
    if not header or "id" not in header or "label" not in header:
        raise UserError(f"{path}: expected a header line with the columns id "
                        f"and label (as evaler.py --suggest writes it)")
    id_column, label_column = header.index("id"), header.index("label")
    labels = {}
    for (number, _), row in zip(lines[1:], rows):
        if len(row) <= max(id_column, label_column):
            raise UserError(f"{path}, line {number}: {len(row)} columns, "
                            f"the header has {len(header)}")
        example_id, label = row[id_column].strip(), row[label_column].strip()
        if not label:
            continue  # not labeled (yet)
        if label in by_name:
            index = by_name[label]
        elif label.isdigit() and int(label) < num_class:
            index = int(label)
        else:
            raise UserError(f"{path}, line {number}: label {label!r} of id "
                            f"{example_id!r} is not a class name "
                            f"({', '.join(names[:10])}"
                            f"{', ...' if len(names) > 10 else ''}) or index "
                            f"0-{num_class - 1}")
        if labels.get(example_id, index) != index:
            raise UserError(f"{path}, line {number}: id {example_id!r} is "
                            f"given two different labels")
        labels[example_id] = index
    return labels


def add_labels(csv_path: str, dataset_dir: str, name: str, log=print) -> int:
    """Writes the labels filled in `csv_path` into dataset `name`'s data.hy,
    atomically (a copy changed, then renamed over it), every id checked
    first; the cache's labels follow. Returns how many were written."""
    dataset = data_format.load_dataset(dataset_dir, name)
    labels = read_label_file(csv_path, dataset.class_names, dataset.num_class)
    if not labels:
        raise UserError(f"{csv_path}: no row has its label filled in")
    position = {example_id: i for i, example_id in enumerate(dataset.ids)}
    unknown = [example_id for example_id in labels if example_id not in
               position]
    if unknown:
        raise UserError(f"{csv_path}: {len(unknown)} id(s) not in dataset "
                        f"{name}, e.g. {unknown[0]!r}")
    path = data_format.dataset_path(dataset_dir, name)
    data_file = data_format.find_data_file(path)
    if data_format.record_split(path, dataset):
        log(f"the 80/20 split of {name} kept in id_train.txt and id_test.txt: "
            f"the images labeled now train")
    new_labels = np.array(dataset.labels, np.int64)
    for example_id, index in labels.items():
        new_labels[position[example_id]] = index
    changed = int(np.sum(new_labels != np.asarray(dataset.labels)))
    try:
        with files.atomic_path(data_file) as tmp:
            shutil.copyfile(data_file, tmp)
            with h5py.File(tmp, "r+") as f:
                for example_id, index in labels.items():
                    group = f[example_id]
                    if "label" in group:
                        del group["label"]
                    one_hot = np.zeros(dataset.num_class, np.uint8)
                    one_hot[index] = 1
                    group.create_dataset("label", data=one_hot)
    except OSError as e:
        if not files.out_of_space(e):
            raise
        raise files.no_space(path, os.path.getsize(data_file)) from None
    cache_lib.refresh_labels(path, data_file, dataset.ids,
                                      new_labels)
    log(f"{len(labels)} labels from {csv_path} written into {data_file} "
        f"({changed} changed, {int(np.sum(new_labels == data_format.UNLABELED))}"
        f" examples still unlabeled)")
    return len(labels)
