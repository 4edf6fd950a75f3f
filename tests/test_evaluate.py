"""Exact evaluation: hand-made predictions with a known answer, then evaler.py
end to end on a tiny trained run (JSON, pictures, every bad input)."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from ssgan_tf import evaluate, plots

from conftest import assert_one_line_error, run_cli, write_tiny_dataset


def test_every_example_counted_once_with_a_partial_last_batch():
    # 7 images; the "model" predicts the class written in pixel (0, 0).
    predicted = np.array([0, 1, 1, 0, 1, 0, 1])
    images = np.zeros((7, 2, 2, 1), np.uint8)
    images[:, 0, 0, 0] = predicted
    seen = []

    def predict_fn(batch):
        seen.append(int(batch.shape[0]))
        return tf.cast(tf.round((batch[:, 0, 0, 0] + 1.0) * 127.5), tf.int32)
    out = evaluate.predict(predict_fn, images, batch_size=3)
    assert seen == [3, 3, 1]  # the last, partial batch is not dropped
    np.testing.assert_array_equal(out, predicted)

    labels = np.array([0, 1, 2, 0, 1, 1, 2])  # class 2 is never predicted
    result = evaluate.report(labels, out, 3, ["a", "b", "c"])
    # correct: indices 0, 1, 3, 4 -> 4 of 7
    assert result["accuracy"] == pytest.approx(4 / 7)
    assert result["num_examples"] == 7
    assert result["per_class_accuracy"] == [1.0, pytest.approx(2 / 3), 0.0]
    assert result["confusion_matrix"] == [[2, 0, 0], [1, 2, 0], [0, 2, 0]]


def test_class_without_examples_has_no_accuracy():
    result = evaluate.report([0, 0], [0, 1], 3)
    assert result["per_class_accuracy"] == [0.5, None, None]
    assert result["class_names"] == ["0", "1", "2"]


def test_grid_and_confusion_pictures(tmp_path):
    images = np.linspace(-1, 1, 5 * 4 * 3 * 1).reshape(5, 4, 3, 1)
    mosaic = plots.grid(images)
    assert mosaic.shape == (2 * 5 + 1, 3 * 4 + 1, 1)  # 3 columns, 2 rows
    plots.save_sample_grid(images, str(tmp_path / "g.png"), scale=2)
    with Image.open(tmp_path / "g.png") as picture:
        assert picture.size == (26, 22)
    result = evaluate.report([0, 1, 1], [0, 1, 0], 2, ["cat", "dog"])
    plots.save_confusion(result, str(tmp_path / "c.png"))
    with Image.open(tmp_path / "c.png") as picture:
        array = np.asarray(picture.convert("L"))
        assert array.std() > 10  # not blank


def test_evaler_matches_the_trainer_and_writes_everything(tiny_run):
    root, run_dir, train_log = tiny_run
    result = run_cli("evaler.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint", run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    saved = json.load(open(os.path.join(run_dir, "eval-30.json")))
    assert saved["num_examples"] == 17  # the official test split: 66 - 49
    assert saved["split"] == "test" and saved["dataset"] == "tiny"
    assert saved["checkpoint"].endswith("model-30")
    assert len(saved["confusion_matrix"]) == 4
    assert sum(map(sum, saved["confusion_matrix"])) == 17
    trainer_said = train_log.split("test accuracy ")[-1].split()[0]
    assert f"{saved['accuracy']:.4f}" == trainer_said
    assert f"accuracy {saved['accuracy']:.4f}" in result.stdout
    assert "deprecat" not in result.stderr.lower(), result.stderr[-3000:]
    for name in ("confusion.png", "curves.png", "samples-30.png"):
        with Image.open(os.path.join(run_dir, name)) as picture:
            assert picture.size[0] > 20 and picture.size[1] > 20
            assert np.asarray(picture.convert("L")).std() > 1, name
    with Image.open(os.path.join(run_dir, "training.gif")) as gif:
        assert gif.n_frames == 3  # samples-10, -20, -30


def test_all_checkpoints_and_data_id(tiny_run):
    root, run_dir, _ = tiny_run
    result = run_cli("evaler.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint", run_dir,
                     "--all_checkpoints", "--noplots")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.load(open(os.path.join(run_dir, "eval-all.json")))
    assert summary["steps"] == [10, 20, 30]
    result = run_cli("evaler.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint",
                     os.path.join(run_dir, "model-20"), "--data_id", "ex0001",
                     "ex0002", "--noplots")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.load(open(os.path.join(run_dir, "eval-20.json")))[
        "num_examples"] == 2


def test_evaler_bad_inputs(tiny_run, tmp_path):
    root, run_dir, _ = tiny_run
    data = ["--dataset", "tiny", "--dataset_dir", str(root / "data")]
    assert_one_line_error(run_cli("evaler.py", *data), "--checkpoint")
    assert_one_line_error(run_cli("evaler.py", *data, "--checkpoint",
                                  str(tmp_path / "nope")), "nope")
    assert_one_line_error(run_cli("evaler.py", *data, "--checkpoint", run_dir,
                                  "--data_id", "ex0001", "ghost7"),
                          "--data_id", "'ghost7'")
    assert_one_line_error(run_cli("evaler.py", *data, "--checkpoint", run_dir,
                                  "--watch", "--watch_timeout", "nan"),
                          "--watch_timeout")
    write_tiny_dataset(tmp_path / "other", name="colour", shape=(16, 16, 3))
    assert_one_line_error(run_cli("evaler.py", "--dataset", "colour",
                                  "--dataset_dir", str(tmp_path / "other"),
                                  "--checkpoint", run_dir), "image shape")


def test_watch_ends_at_a_time_fitted_runs_planned_last_step(tiny_run,
                                                           tmp_path):
    """A run fitted to --max_seconds ends where its plan (config.json's
    schedule, re-aimed at each save) says, not at --max_training_steps:
    --watch stops there instead of idling until its timeout."""
    import json
    import shutil
    root, run_dir, _ = tiny_run
    copy = tmp_path / "fitted"
    shutil.copytree(run_dir, copy)
    info = json.loads((copy / "config.json").read_text())
    info["config"].update(fit_to_time=True, max_seconds=60.0,
                          max_training_steps=100000)
    info["schedule"] = {"final_step": 30, "decay_start": 20.0,
                        "fitted_to_seconds": 60.0}
    (copy / "config.json").write_text(json.dumps(info))
    result = run_cli("evaler.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint", str(copy), "--watch",
                     "--watch_timeout", "3000", "--noplots", timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "at step 30" in result.stdout


def test_watch_evaluates_until_the_last_step(tiny_run):
    root, run_dir, _ = tiny_run
    result = run_cli("evaler.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint", run_dir, "--watch",
                     "--watch_timeout", "20", "--noplots")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "at step 30" in result.stdout  # the run's last step ends the watch
