"""The training split and its labeled subset."""

import numpy as np
import pytest

from ssgan_tf.data import format as data_format, splits
from ssgan_tf.errors import UserError


def test_labeled_subset_is_class_balanced_and_seeded():
    labels = np.repeat(np.arange(4), 25)
    chosen = splits.choose_labeled(labels, 20, 4, seed=7)
    assert len(chosen) == 20 and len(set(chosen)) == 20
    np.testing.assert_array_equal(np.bincount(labels[chosen]), [5, 5, 5, 5])
    np.testing.assert_array_equal(chosen,
                                  splits.choose_labeled(labels, 20, 4, seed=7))
    assert not np.array_equal(chosen,
                              splits.choose_labeled(labels, 20, 4, seed=8))


def test_zero_or_all_means_every_example():
    labels = np.arange(10) % 2
    np.testing.assert_array_equal(splits.choose_labeled(labels, 0, 2, 1),
                                  np.arange(10))
    np.testing.assert_array_equal(splits.choose_labeled(labels, 10, 2, 1),
                                  np.arange(10))


@pytest.mark.parametrize("count, fragment", [(11, "only 10"),
                                             (3, "divide evenly"),
                                             (8, "class 1 has only")])
def test_bad_num_labeled(count, fragment):
    labels = np.array([0] * 8 + [1] * 2)
    with pytest.raises(UserError) as info:
        splits.choose_labeled(labels, count, 2, 1)
    assert "--num_labeled" in str(info.value) and fragment in str(info.value)


def test_labeled_ids_file_picks_those_examples_and_refuses_unknown(tmp_path):
    train = data_format.ArrayDataset(
        name="t", ids=["a", "b", "c", "d"],
        images=np.zeros((4, 2, 2, 1), np.uint8), labels=np.array([0, 1, 0, 1]),
        num_class=2, class_names=None)
    listed = tmp_path / "ids.txt"
    listed.write_text("d\nb\n")
    np.testing.assert_array_equal(
        splits.labeled_indices(train, 0, 1, str(listed)), [1, 3])
    listed.write_text("b\nzz\n")
    with pytest.raises(UserError, match="--labeled_ids .*'zz'"):
        splits.labeled_indices(train, 0, 1, str(listed))
