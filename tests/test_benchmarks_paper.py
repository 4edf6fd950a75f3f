"""benchmarks/paper.py on tiny data in SVHN's upstream format: it downloads,
trains the preset per seed, evaluates on the test split and writes the table,
marked as shortened."""

import dataclasses
import json

from benchmarks import paper
from ssgan_tf import presets
from ssgan_tf.data import sources

from conftest import svhn_files


def test_reproduce_writes_the_table(tmp_path, monkeypatch):
    files, hashes, _ = svhn_files(num_train=40, num_test=10)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, data in files.items():
        (mirror / name).write_bytes(data)
    real = sources.SOURCES["SVHN"]
    monkeypatch.setitem(sources.SOURCES, "SVHN", dataclasses.replace(
        real, official_sizes=(40, 10),
        files=tuple(dataclasses.replace(r, sha256=hashes[r.name])
                    for r in real.files)))
    monkeypatch.setitem(paper.PAPER, "SVHN", ("svhn_1000", 10, "8.11 ± 1.3"))
    # the preset with 10 labels and batch 10, for 40 training images
    monkeypatch.setitem(presets.PRESETS, "svhn_1000", dict(
        presets.SVHN_1000, num_labeled=10, batch_size=10))
    record = paper.reproduce("SVHN", [1, 2], str(tmp_path / "data"),
                             str(tmp_path / "out"), max_training_steps=2,
                             mirror=str(mirror), log=lambda *a: None)
    assert [r["seed"] for r in record["runs"]] == [1, 2]
    assert all(r["test_examples"] == 10 and r["step"] == 2
               for r in record["runs"])
    saved = json.load(open(tmp_path / "out" / "paper-SVHN.json"))
    assert saved["full_schedule"] is False
    text = (tmp_path / "out" / "paper-SVHN.md").read_text()
    assert "| SVHN | 10 |" in text and "shortened to 2 steps" in text
    assert f"{record['mean_error_percent']}% ± " in text
