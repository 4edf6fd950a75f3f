"""What to label next: the ranking on hand-made probabilities, evaler.py
--suggest and model.suggest on a tiny run, and download.py --add_labels."""

import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

from ssgan_tf import serving, suggest

from conftest import assert_one_line_error, run_cli, write_tiny_dataset


def test_margins_name_the_two_most_probable_classes():
    predicted, top, runner_up, second = suggest.margins(
        [[0.1, 0.7, 0.2], [0.5, 0.1, 0.4]])
    assert list(predicted) == [1, 0] and list(runner_up) == [2, 2]
    np.testing.assert_allclose(top, [0.7, 0.5])
    np.testing.assert_allclose(second, [0.2, 0.4])


def test_the_smallest_margin_comes_first():
    probabilities = np.array([[0.9, 0.1], [0.55, 0.45], [0.3, 0.7],
                              [0.48, 0.52]])
    # margins 0.8, 0.1, 0.4, 0.04; two classes, so two slots each of four
    assert list(suggest.rank(probabilities, np.ones(4), 4,
                             outlier_fraction=0)) == [3, 1, 2, 0]
    assert list(suggest.rank(probabilities, np.ones(4), 2,
                             outlier_fraction=0)) == [3, 1]


def test_one_confusing_class_does_not_take_every_slot():
    # rows 0-3 are predicted class 0 with small margins, rows 4-5 class 1
    # and row 6 class 2 with larger ones: 3 slots, one per class
    probabilities = np.array([
        [0.50, 0.49, 0.01], [0.51, 0.48, 0.01], [0.52, 0.47, 0.01],
        [0.53, 0.46, 0.01], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3],
        [0.1, 0.1, 0.8]])
    assert list(suggest.rank(probabilities, np.ones(7), 3,
                             outlier_fraction=0)) == [0, 5, 6]
    # 5 slots, ceil(5 / 3) = 2 per class: class 0's two best, class 1's
    # two, class 2's one
    assert list(suggest.rank(probabilities, np.ones(7), 5,
                             outlier_fraction=0)) == [0, 1, 5, 4, 6]
    # 6 slots but only 5 fit the shares: the next by margin fills the rest
    assert list(suggest.rank(probabilities, np.ones(7), 6,
                             outlier_fraction=0)) == [0, 1, 5, 4, 6, 2]


def test_the_least_real_images_come_after_every_other():
    probabilities = np.array([[0.5, 0.5], [0.6, 0.4], [0.7, 0.3],
                              [0.8, 0.2], [0.9, 0.1]])
    p_real = np.array([0.01, 0.9, 0.8, 0.02, 0.95])
    # 40% of 5: rows 0 and 3 (the lowest p_real) are outliers
    assert list(suggest.rank(probabilities, p_real, 3,
                             outlier_fraction=0.4)) == [1, 2, 4]
    # asked for more than the others: the outliers last, by margin
    assert list(suggest.rank(probabilities, p_real, 10,
                             outlier_fraction=0.4)) == [1, 2, 4, 0, 3]


def test_nothing_to_rank():
    assert len(suggest.rank(np.zeros((0, 3)), np.zeros(0), 5)) == 0
    assert len(suggest.rank(np.ones((2, 3)) / 3, np.ones(2), 0)) == 0


# --- evaler.py --suggest, model.suggest and download.py --add_labels


@pytest.fixture(scope="module")
def semi_run(tmp_path_factory):
    """A tiny run with 8 of its 49 training examples labeled."""
    root = tmp_path_factory.mktemp("suggest")
    write_tiny_dataset(root / "data", count=66, shape=(12, 12, 1), splits=True)
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--train_dir", str(root / "runs"),
                     "--batch_size", "8", "--n_z", "16", "--num_labeled", "8",
                     "--max_training_steps", "20", "--ckpt_save_step", "20",
                     "--output_save_step", "20", "--test_sample_step", "20",
                     "--log_step", "10")
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = os.path.join(root / "runs", os.listdir(root / "runs")[0])
    return root, run_dir


def read_suggestions(path):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    return lines[0], list(csv.DictReader(lines[1:]))


def test_suggest_writes_a_csv_to_fill_in_and_a_contact_sheet(semi_run,
                                                            tmp_path):
    root, run_dir = semi_run
    out = tmp_path / "next.csv"
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--suggest", "5",
                     "--suggest_file", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    comment, rows = read_suggestions(out)
    assert comment.startswith(f"# suggested by {run_dir}/model-20 (step 20)")
    assert list(rows[0]) == ["id", "predicted", "probability", "runner_up",
                             "runner_up_probability", "p_real", "label"]
    assert len(rows) == 5 and all(row["label"] == "" for row in rows)
    labeled = set(open(os.path.join(run_dir, "labeled_ids.txt")).read()
                  .split())
    train = set(open(os.path.join(run_dir, "train_ids.txt")).read().split())
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == 5 and set(ids) <= train - labeled
    for row in rows:
        assert float(row["probability"]) >= float(
            row["runner_up_probability"])
    with Image.open(tmp_path / "next.png") as sheet:
        assert sheet.size[0] > 100 and sheet.size[1] > 50
    assert f"--add_labels {out} --name tiny" in result.stdout
    # the Python method ranks the same (in this process, a fresh load)
    model = serving.load(run_dir, log=lambda *a: None)
    suggested = model.suggest(5)
    assert [s["id"] for s in suggested] == ids
    assert [s["predicted"] for s in suggested] == [r["predicted"]
                                                   for r in rows]
    assert suggested[0]["image"].shape == (12, 12, 1)
    # it is the ranking of the model's own probabilities
    pool = model.unlabeled_examples()
    assert len(pool) == 49 - 8
    probabilities, p_real = model.predict_with_realness(pool.images)
    expected = suggest.rank(probabilities, p_real, 5)
    assert [pool.ids[i] for i in expected] == ids


def test_suggest_more_than_there_is_gives_every_unlabeled_one(semi_run,
                                                              tmp_path):
    _, run_dir = semi_run
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--suggest", "100",
                     "--suggest_file", str(tmp_path / "all.csv"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "only 41 unlabeled" in result.stdout
    assert len(read_suggestions(tmp_path / "all.csv")[1]) == 41


def test_a_bad_suggest_file_writes_nothing(semi_run, tmp_path):
    _, run_dir = semi_run
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--suggest", "3",
                     "--suggest_file", str(tmp_path / "next.txt"))
    assert_one_line_error(result, "--suggest_file", "next.txt", ".csv")
    assert os.listdir(tmp_path) == []
    assert_one_line_error(run_cli("evaler.py", "--checkpoint", run_dir,
                                  "--suggest", "0"), "--suggest")


def labels_dataset(root):
    """12 examples, the last 4 without a label; classes a, b, c."""
    from ssgan_tf.data import format as data_format
    ids = [f"img{i}" for i in range(12)]
    labels = np.array([0, 1, 2] * 2 + [0, 1] + [-1] * 4)
    images = np.arange(12 * 4 * 4, dtype=np.uint8).reshape(12, 4, 4, 1)
    data_format.write_dataset(str(root / "own"), ids, images, labels,
                              num_class=3, class_names=["a", "b", "c"])
    return data_format.load_dataset(str(root), "own")  # the cache, fresh


def test_added_labels_land_on_their_ids(tmp_path):
    from ssgan_tf.data import format as data_format
    labels_dataset(tmp_path)
    filled = tmp_path / "filled.csv"
    filled.write_text("# suggested by run/model-20 (step 20)\n"
                      "id,predicted,probability,label\n"
                      "img9,a,0.5,c\nimg10,b,0.4,\nimg11,c,0.3,1\n"
                      "img0,a,0.9,b\n")
    cache_meta = tmp_path / "own" / ".cache" / "meta.json"
    result = run_cli("download.py", "--add_labels", str(filled), "--name",
                     "own", "--dataset_dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "3 labels" in result.stdout and "2 examples still unlabeled" in \
        result.stdout
    after = data_format.load_dataset(str(tmp_path), "own")
    assert list(after.labels) == [1, 1, 2, 0, 1, 2, 0, 1, -1, 2, -1, 1]
    # the cache took the labels without a rebuild from the whole file
    stamp = json.loads(cache_meta.read_text())["data"]
    assert stamp["size"] == os.path.getsize(tmp_path / "own" / "data.hy")
    # and the file itself holds them (read without the cache)
    import h5py
    with h5py.File(tmp_path / "own" / "data.hy", "r") as f:
        assert list(f["img9"]["label"][()]) == [0, 0, 1]
        assert "label" not in f["img10"]


@pytest.mark.parametrize("row, fragment", [
    ("img9,a,0.5,dog", "'dog'"), ("img9,a,0.5,3", "'3'"),
    ("nosuch,a,0.5,b", "nosuch"), ("img9,a,0.5,a\nimg9,a,0.5,b", "two different labels"),
])
def test_a_bad_label_file_is_refused_with_nothing_written(tmp_path, row,
                                                          fragment):
    labels_dataset(tmp_path)
    data = tmp_path / "own" / "data.hy"
    before = data.read_bytes()
    filled = tmp_path / "filled.csv"
    filled.write_text(f"id,predicted,probability,label\nimg10,b,0.4,a\n{row}\n")
    result = run_cli("download.py", "--add_labels", str(filled), "--name",
                     "own", "--dataset_dir", str(tmp_path))
    assert_one_line_error(result, str(filled), fragment)
    assert data.read_bytes() == before
    assert sorted(os.listdir(tmp_path / "own")) == [".cache", "data.hy",
                                                    "id.txt"]


def test_add_labels_needs_a_name_and_a_header(tmp_path):
    labels_dataset(tmp_path)
    filled = tmp_path / "filled.csv"
    filled.write_text("img9,c\n")
    assert_one_line_error(run_cli("download.py", "--add_labels", str(filled)),
                          "--name")
    assert_one_line_error(run_cli(
        "download.py", "--add_labels", str(filled), "--name", "own",
        "--dataset_dir", str(tmp_path)), "id and label")
