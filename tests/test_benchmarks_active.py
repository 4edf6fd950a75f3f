"""benchmarks/active.py: the arms it trains and what its JSON records."""

import json
import os

from conftest import run_cli, write_tiny_dataset


def test_active_runs_every_arm_on_equal_labels_and_steps(tmp_path):
    write_tiny_dataset(tmp_path / "data", name="mnist", count=160,
                       shape=(28, 28, 1), num_class=10, splits=True)
    out = tmp_path / "out"
    result = run_cli(os.path.join("benchmarks", "active.py"), "--seeds", "4",
                     "--steps", "3", "--start", "10", "--add", "10",
                     "--dataset_dir", str(tmp_path / "data"), "--mirror", "",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out / "active-10+10.json") as f:
        record = json.load(f)
    run, = record["runs"]
    assert set(record["medians"]) == {"round1", "suggested", "random",
                                      "balanced"}
    assert sum(run["suggested_classes"]) == 10
    start = (out / "runs" / "seed4-round1" / "labeled_ids.txt").read_text() \
        .split()
    for arm in ("suggested", "random", "balanced"):
        labeled = (out / "runs" / f"seed4-{arm}" / "labeled_ids.txt") \
            .read_text().split()
        assert len(set(labeled)) == 20, arm
        if arm != "balanced":  # the round-1 labels and 10 new ones
            assert set(start) < set(labeled), arm
        info = json.loads((out / "runs" / f"seed4-{arm}" / "config.json")
                          .read_text())
        assert info["config"]["max_training_steps"] == 3
    suggested = (out / "seed4-suggested-labeled_ids.txt").read_text().split()
    randomly = (out / "seed4-random-labeled_ids.txt").read_text().split()
    assert suggested != randomly
