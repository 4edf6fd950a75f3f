"""A trained run put to use: evaler.py --predict / --predictions_file /
--export / --sample, the SavedModel in a process without ssgan_tf, and the
README's notebook snippet run as written."""

import csv
import json
import os
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest
from PIL import Image

from ssgan_tf import evaler, serving
from ssgan_tf.config import EvalConfig
from ssgan_tf.data import format as data_format
from ssgan_tf.errors import UserError

from conftest import ROOT, assert_one_line_error, run_cli, write_tiny_dataset


@pytest.fixture(scope="module")
def model(tiny_run):
    root, run_dir, _ = tiny_run
    return root, run_dir, serving.load(run_dir, log=lambda *a: None)


def test_predict_prints_what_the_library_predicts(model, tmp_path):
    root, run_dir, trained = model
    test = data_format.load_split(str(root / "data"), "tiny", "test")
    folder = tmp_path / "images"
    folder.mkdir()
    for index, image in enumerate(test.images[:6]):
        Image.fromarray(image[..., 0]).save(folder / f"{index}.png")
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--predict",
                     str(folder), "--top_k", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split("\t") for line in result.stdout.splitlines()
             if "\t" in line]
    assert len(lines) == 6
    probabilities = trained.predict(np.asarray(test.images[:6]))
    for index, fields in enumerate(lines):
        assert fields[0] == str(folder / f"{index}.png")
        best = int(np.argmax(probabilities[index]))
        assert fields[1] == trained.class_names[best]
        assert float(fields[2]) == pytest.approx(probabilities[index, best],
                                                 abs=1e-4)
        assert len(fields) == 5 and float(fields[4]) <= float(fields[2])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_prediction_fits_images_as_conversion_did(model, tmp_path):
    """A non-square photo: --predict --resize, predict(..., resize=True) on
    its path or its array, and the image --from_folder --image_size wrote
    are one image, so one prediction."""
    from ssgan_tf.data import folder as folder_lib
    root, run_dir, trained = model
    rng = np.random.RandomState(7)
    photos = {"wide": rng.randint(0, 256, (12, 30)).astype(np.uint8),
              "tall": rng.randint(0, 256, (25, 12, 3)).astype(np.uint8)}
    for name, array in photos.items():
        os.makedirs(tmp_path / "photos" / name)
        Image.fromarray(array).save(tmp_path / "photos" / name / "p.png")
    folder_lib.convert_folder(str(tmp_path / "photos"), "photos",
                              str(tmp_path / "data"), image_size=(12, 12),
                              channels=1, log=lambda *a: None)
    converted = data_format.load_dataset(str(tmp_path / "data"), "photos")
    paths = [str(tmp_path / "photos" / name / "p.png") for name in photos]
    order = [converted.ids.index(f"{name}_p.png") for name in photos]
    expected = trained.predict(np.asarray(converted.images)[order])
    np.testing.assert_array_equal(
        trained.predict(paths, resize=True), expected)
    np.testing.assert_array_equal(
        trained.predict(list(photos.values()), resize=True), expected)
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--predict",
                     *paths, "--resize", "--top_k", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split("\t") for line in result.stdout.splitlines()
             if "\t" in line]
    assert [float(fields[2]) for fields in lines] == pytest.approx(
        expected.max(axis=1), abs=1e-4)
    with pytest.raises(UserError, match="resize=True"):
        trained.predict(np.zeros((2, 12, 6, 1), np.uint8))


def test_predictions_file_has_a_row_per_example(model, tmp_path):
    root, run_dir, trained = model
    out = tmp_path / "test.csv"
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--noplots",
                     "--predictions_file", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.reader(open(out)))
    names = trained.class_names
    assert rows[0] == ["id", "label", "predicted"] + [f"p_{n}" for n in names] \
        + ["p_real"]
    test = data_format.load_split(str(root / "data"), "tiny", "test")
    assert [row[0] for row in rows[1:]] == list(test.ids)
    for row, label in zip(rows[1:], test.labels):
        assert row[1] == names[label]
        p = np.array([float(x) for x in row[3:3 + len(names)]])
        assert row[2] == names[int(np.argmax(p))]
        assert 0.0 <= float(row[-1]) <= 1.0
    accuracy = np.mean([row[1] == row[2] for row in rows[1:]])
    assert f"accuracy {accuracy:.4f}" in result.stdout


LOAD_EXPORT = """
import json, sys
import numpy as np
import tensorflow as tf
images = np.load(sys.argv[2])
model = tf.saved_model.load(sys.argv[1])
out = model.signatures["serving_default"](images=tf.constant(images))
listed = model.signatures["class_list"]()["class_names"].numpy()
json.dump({"ssgan_tf_imported": any(m.startswith("ssgan_tf")
                                    for m in sys.modules),
           "class_list": [n.decode() for n in listed],
           "attribute": [n.decode() for n in model.class_names.numpy()],
           "probabilities": out["probabilities"].numpy().tolist(),
           "classes": out["classes"].numpy().tolist(),
           "class_names": [n.decode() for n in out["class_names"].numpy()],
           "dtypes": [out["probabilities"].dtype.name,
                      out["classes"].dtype.name]}, sys.stdout)
"""


def test_export_runs_without_ssgan_tf_and_predicts_the_same(model, tmp_path):
    root, run_dir, trained = model
    export = tmp_path / "exported"
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--export",
                     str(export))
    assert result.returncode == 0, result.stderr[-3000:]
    images = np.asarray(data_format.load_split(
        str(root / "data"), "tiny", "test").images[:7])
    np.save(tmp_path / "images.npy", images)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_EXPORT, str(export),
         str(tmp_path / "images.npy")], capture_output=True, text=True,
        cwd=str(tmp_path), env=env, timeout=300, check=False)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    served = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert not served["ssgan_tf_imported"]
    assert served["dtypes"] == ["float32", "int64"]
    expected = trained.predict(images)
    np.testing.assert_allclose(served["probabilities"], expected, atol=1e-5)
    assert served["classes"] == expected.argmax(axis=1).tolist()
    assert served["class_names"] == [trained.class_names[c]
                                     for c in served["classes"]]
    # the ordered classes, for a server's top-k columns
    assert served["class_list"] == served["attribute"] == trained.class_names


def test_samples_as_a_grid_and_as_the_originals_dump(model, tmp_path):
    _, run_dir, trained = model
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--sample", "9",
                     "--sample_file", str(tmp_path / "s.png"), "--seed", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    # 3 x 3 images of 12 px with 1 px gaps, each pixel drawn 3 x 3
    assert Image.open(tmp_path / "s.png").size == (3 * 40, 3 * 40)
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--sample", "5",
                     "--sample_file", str(tmp_path / "g_img.hy"), "--seed",
                     "3")
    assert result.returncode == 0, result.stderr[-3000:]
    with h5py.File(tmp_path / "g_img.hy", "r") as f:
        dumped = f["image"][()]
    assert dumped.shape == (5, 12, 12, 1)
    assert dumped.min() >= -1.0 and dumped.max() <= 1.0
    # the seed fixes them: the library draws the same first images
    np.testing.assert_allclose(dumped, trained.sample_scaled(5, seed=3),
                               atol=1e-5)
    assert trained.sample(5, seed=3).dtype == np.uint8


def test_bad_use_is_one_line_and_writes_nothing(model, tmp_path):
    _, run_dir, _ = model
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    (tmp_path / "notes.png").write_text("not an image")
    before = sorted(os.listdir(tmp_path))
    # through the command line: one line, exit 2
    for argv, fragment in [
            (["--checkpoint", run_dir, "--predict", str(tmp_path / "empty")],
             "holds no PNG or JPEG"),
            (["--checkpoint", run_dir, "--sample", "0", "--sample_file",
              str(tmp_path / "x.png")], "--sample")]:
        assert_one_line_error(run_cli("evaler.py", *argv), fragment)
    # the same errors the library raises for the rest
    for changes, fragment in [
            ({"predict": (str(tmp_path / "no.png"),)}, "no such file"),
            ({"predict": (str(tmp_path / "notes.png"),)},
             "not a readable image"),
            ({"checkpoint": None, "predict": (str(tmp_path / "notes.png"),)},
             "--checkpoint"),
            ({"export": str(tmp_path / "full")}, "--export")]:
        with pytest.raises(UserError, match=fragment):
            evaler.run(EvalConfig(**dict({"checkpoint": run_dir}, **changes)),
                       log=lambda *a: None)
    assert sorted(os.listdir(tmp_path)) == before
    assert os.listdir(tmp_path / "full") == ["keep.txt"]


def test_evaler_takes_the_dataset_from_the_run(model, tmp_path):
    root, run_dir, _ = model
    # the same images under another name: evaluated, with one line saying so
    data = data_format.load_dataset(str(root / "data"), "tiny")
    data_format.write_dataset(str(tmp_path / "data" / "copy"), data.ids,
                              np.asarray(data.images), data.labels,
                              num_class=data.num_class)
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--noplots",
                     "--dataset", "copy", "--dataset_dir",
                     str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "evaluating on copy; the run was trained on tiny" in result.stdout
    write_tiny_dataset(tmp_path / "data", name="wide", shape=(12, 12, 3))
    result = run_cli("evaler.py", "--checkpoint", run_dir, "--dataset",
                     "wide", "--dataset_dir", str(tmp_path / "data"))
    assert_one_line_error(result, "image shape")


def readme_snippet():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    snippet = [b for b in blocks if "ssgan_tf.load(" in b]
    assert len(snippet) == 1
    return snippet[0]


def test_the_readmes_notebook_snippet_runs_as_written(tmp_path):
    snippet = readme_snippet()
    assert len(snippet.strip().splitlines()) <= 12
    # a small stand-in for MNIST: 28 x 28 grey, 10 classes, 120 + 30 images
    write_tiny_dataset(tmp_path / "datasets", name="mnist", count=150,
                       shape=(28, 28, 1), num_class=10, splits=True)
    result = subprocess.run([sys.executable, "-c", snippet], cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, PYTHONPATH=ROOT),
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.strip().splitlines()
    assert 0.0 <= float(printed[-2]) <= 1.0
    assert printed[-1] in [str(k) for k in range(10)]
    assert os.path.isfile(tmp_path / "exported" / "mnist_100" /
                          "saved_model.pb")
    assert len(os.listdir(tmp_path / "train_dir")) == 1
