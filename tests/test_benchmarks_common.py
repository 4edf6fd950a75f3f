"""benchmarks/common.py: the paper's own label draw; the thread count recorded."""

import os
import sys

import numpy as np
import pytest

from conftest import write_tiny_dataset

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402  pylint: disable=wrong-import-position


def test_paper_labeled_ids_takes_the_first_of_each_class_in_the_permutation(
        tmp_path):
    _, ids, _, labels = write_tiny_dataset(tmp_path, name="MNIST", count=40,
                                           num_class=4, splits=True)
    out = common.paper_labeled_ids(str(tmp_path), str(tmp_path / "ids.txt"),
                                   per_class=2, seed_data=1)
    with open(out) as f:
        got = f.read().split()
    # The paper's script, walked one example at a time: through the
    # permutation of the 30 training examples, keep an example while its
    # class still has room; then class 0's, class 1's, ...
    kept = {label: [] for label in range(4)}
    for index in np.random.RandomState(1).permutation(30):
        if len(kept[labels[index]]) < 2:
            kept[labels[index]].append(ids[index])
    assert got == [i for label in range(4) for i in kept[label]]
    # another data seed, another draw
    other = common.paper_labeled_ids(str(tmp_path), str(tmp_path / "o.txt"),
                                     per_class=2, seed_data=2)
    with open(other) as f:
        assert f.read().split() != got


@pytest.mark.parametrize("value, expected", [("1", 1), ("3", 3), ("", None),
                                             ("0", None), ("two", None)])
def test_threads_follow_tf_num_intraop_threads_else_every_core(
        monkeypatch, value, expected):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", value)
    assert common.threads() == (expected or os.cpu_count())
    assert common.machine()["threads"] == common.threads()


def test_a_script_reading_a_past_run_records_no_thread_count():
    assert "threads" not in common.machine(measured_here=False)
