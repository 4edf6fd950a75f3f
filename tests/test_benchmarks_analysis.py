"""benchmarks/analysis/average_checkpoints.py: a classifier averaged over checkpoints."""

import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.analysis import average_checkpoints  # noqa: E402  pylint: disable=wrong-import-position


def test_average_is_the_elementwise_mean_of_each_variable():
    first = [np.array([1.0, 2.0]), np.array([[3.0]])]
    second = [np.array([3.0, 6.0]), np.array([[-1.0]])]
    mean = average_checkpoints.average([first, second])
    np.testing.assert_allclose(mean[0], [2.0, 4.0])
    np.testing.assert_allclose(mean[1], [[1.0]])
    with pytest.raises(ValueError):
        average_checkpoints.average([])


def test_checkpoint_steps_in_the_range_in_step_order(tmp_path):
    for name in ("model-100.index", "model-20.index", "model-30.index",
                 "model-20.data-00000-of-00001", "model-x.index",
                 "eval-30.json"):
        (tmp_path / name).write_text("")
    assert average_checkpoints.checkpoint_steps(str(tmp_path), 20) == \
        [20, 30, 100]
    assert average_checkpoints.checkpoint_steps(str(tmp_path), 21, 100) == \
        [30, 100]
    assert average_checkpoints.checkpoint_steps(str(tmp_path), 101) == []


def test_one_checkpoint_averages_to_itself_and_two_to_their_mean(
        tiny_run, tmp_path, monkeypatch):
    _, run_dir, _ = tiny_run
    averaged, mean = [], average_checkpoints.average

    def recording_average(weight_lists):
        averaged.append(weight_lists)
        return mean(weight_lists)
    monkeypatch.setattr(average_checkpoints, "average", recording_average)
    out = str(tmp_path)
    single = average_checkpoints.main([run_dir, "--from_step", "30",
                                       "--out", out, "--name", "one"])
    assert single["steps"] == [30]
    assert single["average_accuracy"] == single["last_accuracy"]
    both = average_checkpoints.main([run_dir, "--from_step", "10",
                                     "--to_step", "20", "--weights", "raw",
                                     "--out", out, "--name", "two"])
    assert both["steps"] == [10, 20] and both["weights"] == "raw"
    # the two checkpoints' own (different) weights were what was averaged
    assert [len(lists) for lists in averaged] == [1, 2]
    first, second = averaged[1]
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))
    saved = json.load(open(os.path.join(out, "average-checkpoints-two.json")))
    assert saved["average_accuracy"] == both["average_accuracy"]
    assert saved["test_examples"] == 66 - 66 * 3 // 4


def test_an_empty_range_is_one_error_naming_the_run(tiny_run):
    _, run_dir, _ = tiny_run
    with pytest.raises(SystemExit, match="no checkpoint from step 31 to the "
                                         "end") as error:
        average_checkpoints.main([run_dir, "--from_step", "31"])
    assert run_dir in str(error.value)
    with pytest.raises(SystemExit, match="no config.json"):
        average_checkpoints.main([os.path.dirname(run_dir), "--from_step", "0"])


def test_run_accuracy_reads_the_runs_test_accuracy_events(tiny_run):
    from benchmarks.analysis import run_accuracy
    from ssgan_tf import plots
    _, run_dir, _ = tiny_run
    history = run_accuracy.read_history(run_dir)
    expected = plots.read_scalars(run_dir)["test/accuracy"]
    assert [row[0] for row in history] == [step for step, _ in expected]
    assert [row[-1] for row in history] == pytest.approx(
        [value for _, value in expected])


def test_confused_counts_the_first_runs_confusions_and_draws_them(
        tiny_run, tmp_path):
    import shutil
    import matplotlib.image
    from benchmarks.analysis import confused
    from ssgan_tf import checkpoint as ckpt_lib, evaluate
    from ssgan_tf.data import format as data_format
    root, run_dir, _ = tiny_run
    run = str(tmp_path / "run")
    shutil.copytree(run_dir, run)
    info = ckpt_lib.read_run_info(run)
    dataset = data_format.load_dataset(str(root / "data"), "tiny")
    test = data_format.load_split(str(root / "data"), "tiny", "test")
    if not os.path.exists(os.path.join(run, "labeled_ids.txt")):
        with open(os.path.join(run, "labeled_ids.txt"), "w") as f:
            f.write("\n".join(dataset.ids) + "\n")
    predicted = evaluate.predict(evaluate.make_predict_fn(
        evaluate.load_classifier(os.path.join(run, "model-30"), info, dataset),
        dataset.num_class), test.images)
    labels = np.asarray(test.labels)
    true, wrong = max(((t, p) for t in range(dataset.num_class)
                       for p in range(dataset.num_class) if t != p),
                      key=lambda c: np.sum((labels == c[0]) &
                                           (predicted == c[1])))
    out = str(tmp_path / "confused.png")
    count = confused.main([run, run, "--true", str(true), "--predicted",
                           str(wrong), "--out", out])
    assert count == np.sum((labels == true) & (predicted == wrong))
    assert matplotlib.image.imread(out).ndim == 3
    with pytest.raises(SystemExit, match="no checkpoint model-31"):
        confused.main([run, "--true", "0", "--predicted", "1", "--step",
                       "31", "--out", out])
