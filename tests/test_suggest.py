"""What to label next: the choice on hand-made features, evaler.py
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


def three_clusters():
    """Three clusters around (1, 0), (0, 1) and (-1, 0), rows 30c to
    30c + 29: a dense core (the first 20 rows, the typical examples) and
    10 stragglers."""
    rng = np.random.RandomState(0)
    centres = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    points = np.concatenate([
        np.concatenate([c + 0.01 * rng.randn(20, 2),
                        c + 0.3 * rng.randn(10, 2)]) for c in centres])
    return points, centres


def core(rows):
    """The clusters of `rows`, None for a straggler."""
    return sorted(int(r) // 30 if r % 30 < 20 else None for r in rows)


def test_choose_takes_the_typical_example_of_each_unlabeled_cluster():
    points, centres = three_clusters()
    # one label in the first cluster: the two others come first, each by
    # a typical example
    chosen = suggest.choose(points, np.ones(90), centres[:1] + 0.01, 2,
                            outlier_fraction=0)
    assert core(chosen) == [1, 2]
    # no labels yet, three picks: one typical example of each cluster
    chosen = suggest.choose(points, np.ones(90), np.zeros((0, 2)), 3,
                            outlier_fraction=0)
    assert core(chosen) == [0, 1, 2]


def test_choose_leaves_the_least_real_images_for_last():
    points, centres = three_clusters()
    p_real = np.ones(90)
    p_real[30:50] = 0.0  # the second cluster's core: the least real
    chosen = suggest.choose(points, p_real, centres[:1] + 0.01, 2,
                            outlier_fraction=20 / 90)
    assert not set(chosen) & set(range(30, 50))
    everything = suggest.choose(points, p_real, centres[:1], 200,
                                outlier_fraction=20 / 90)
    assert sorted(everything) == list(range(90))
    assert set(everything[-20:]) == set(range(30, 50))
    assert len(suggest.choose(points[:0], p_real[:0], centres, 5)) == 0

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
    """The CSV as a table, read as csv.DictReader (and pandas) read one."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_suggest_writes_a_csv_to_fill_in_and_a_contact_sheet(semi_run,
                                                            tmp_path):
    root, run_dir = semi_run
    out = tmp_path / "next.csv"
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--suggest", "5",
                     "--suggest_file", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_suggestions(out)
    assert list(rows[0]) == ["id", "predicted", "probability", "runner_up",
                             "runner_up_probability", "p_real", "checkpoint",
                             "step", "label"]
    assert len(rows) == 5 and all(row["label"] == "" for row in rows)
    assert {(row["checkpoint"], row["step"]) for row in rows} == {
        (f"{run_dir}/model-20", "20")}
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
    # it is the choice made on the model's own features
    pool, labeled = model.unlabeled_examples(labeled=True)
    assert (len(pool), len(labeled)) == (49 - 8, 8)
    features, _, p_real = model._describe(pool.images)  # pylint: disable=protected-access
    expected = suggest.choose(features, p_real, model._describe(  # pylint: disable=protected-access
        labeled.images)[0], 5)
    assert [pool.ids[i] for i in expected] == ids


def test_suggest_more_than_there_is_gives_every_unlabeled_one(semi_run,
                                                              tmp_path):
    _, run_dir = semi_run
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--suggest", "100",
                     "--suggest_file", str(tmp_path / "all.csv"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "only 41 unlabeled" in result.stdout
    assert len(read_suggestions(tmp_path / "all.csv")) == 41


def test_suggest_never_offers_an_image_that_has_a_label(semi_run, tmp_path):
    """Where the dataset has unlabeled images, only those are offered: not
    the labeled ones the run left out of its labeled subset."""
    root, run_dir = semi_run
    from ssgan_tf.data import format as data_format
    whole = data_format.load_dataset(str(root / "data"), "tiny")
    train_ids = open(os.path.join(run_dir, "train_ids.txt")).read().split()
    known = open(os.path.join(run_dir, "labeled_ids.txt")).read().split()
    chosen = [i for i in train_ids if i not in known][-6:]
    labels = np.array(whole.labels)
    without = [i for i, example_id in enumerate(whole.ids)
               if example_id in chosen]
    labels[without] = data_format.UNLABELED
    data_format.write_dataset(str(tmp_path / "data" / "tiny"), whole.ids,
                              np.asarray(whole.images), labels,
                              num_class=whole.num_class, splits={
                                  "train": train_ids, "test": [
                                      i for i in whole.ids
                                      if i not in train_ids]})
    model = serving.load(run_dir, log=lambda *a: None)
    offered = [s["id"] for s in model.suggest(
        20, dataset_dir=str(tmp_path / "data"))]
    assert sorted(offered) == sorted(chosen)


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
    filled.write_text("id,predicted,probability,label\n"
                      "img9,a,0.5,c\nimg10,b,0.4,\nimg11,c,0.3,1\n"
                      "img0,a,0.9,b\n")
    cache_meta = tmp_path / "own" / ".cache" / "meta.json"
    result = run_cli("download.py", "--add_labels", str(filled), "--name",
                     "own", "--dataset_dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "3 labels" in result.stdout and "2 examples still unlabeled" in \
        result.stdout
    # the split read before the labels (unlabeled ones train) is kept
    assert "kept in id_train.txt and id_test.txt" in result.stdout
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
