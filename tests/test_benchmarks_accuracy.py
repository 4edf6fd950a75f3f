"""benchmarks/accuracy.py: what its JSON says about the runs."""

import json
import os

import pytest

from conftest import run_cli, write_tiny_dataset


@pytest.fixture(name="mnist_dir")
def fixture_mnist_dir(tmp_path):
    """A tiny dataset in MNIST's shape, under the name the script asks for."""
    write_tiny_dataset(tmp_path / "data", name="mnist", count=160,
                       shape=(28, 28, 1), num_class=10, splits=True)
    return str(tmp_path / "data")


def test_ema_decay_and_generator_rate_override_the_variant(tmp_path,
                                                           mnist_dir):
    """--ema_decay, --learning_rate_g, --set and --schedule_steps replace the
    variant's settings in the runs and the JSON (the schedule the runs were
    given, not the variant's 60,000 steps), and name the files; bad values
    are refused before anything is written."""
    out = tmp_path / "out"
    common = ["--variant", "baseline", "--seeds", "1", "--schedule_steps",
              "3", "--dataset_dir", mnist_dir, "--mirror", "",
              "--out", str(out)]
    for flag, value, named in (
            ("--ema_decay", "1.5", "--ema_decay"),
            ("--learning_rate_g", "-1", "--learning_rate_g"),
            ("--set", "no_such_field=1", "--set no_such_field=1: expected"),
            ("--set", "batch_size=abc", "batch_size wants a value of type")):
        refused = run_cli(os.path.join("benchmarks", "accuracy.py"), *common,
                          flag, value)
        assert refused.returncode == 2 and named in refused.stderr
        assert not out.exists()
    result = run_cli(os.path.join("benchmarks", "accuracy.py"), *common,
                     "--ema_decay", "0.5", "--learning_rate_g", "0.002",
                     "--set", "d_init=unit", "adam_epsilon=1e-05")
    assert result.returncode == 0, result.stderr[-2000:]
    tag = "accuracy-baseline-ema0.5-lrg0.002-schedule3-d_initunit-" \
        "adam_epsilon1e-05"
    with open(out / f"{tag}.json") as f:
        record = json.load(f)
    assert (out / f"{tag}.png").is_file()
    # the variant's own 0.999, 0.001, "data" and 1e-4 replaced
    assert record["settings"]["ema_decay"] == 0.5
    assert record["settings"]["learning_rate_g"] == 0.002
    assert record["settings"]["d_init"] == "unit"
    assert record["settings"]["adam_epsilon"] == 1e-5
    assert record["settings"]["max_training_steps"] == 3
    assert record["runs"][0]["final_step"] == 3
    run_dirs = os.listdir(out / "runs")
    with open(out / "runs" / run_dirs[0] / "config.json") as f:
        saved = json.load(f)["config"]
    assert saved["ema_decay"] == 0.5 and saved["learning_rate_g"] == 0.002
    assert saved["d_init"] == "unit" and saved["adam_epsilon"] == 1e-5


def test_all_labels_baseline_trains_on_every_label_without_a_gan(tmp_path,
                                                                 mnist_dir):
    """--variant baseline_all_labels: the preset's discriminator, supervised
    only (--d_loss supervised, which updates no generator), on every training
    label (num_labeled 0: every training id in labeled_ids.txt); --labels
    paper, which needs 100 labels, is refused before anything is written."""
    out = tmp_path / "out"
    args = ["--variant", "baseline_all_labels", "--seeds", "1", "--steps",
            "2", "--dataset_dir", mnist_dir, "--mirror", "", "--out", str(out)]
    refused = run_cli(os.path.join("benchmarks", "accuracy.py"), *args,
                      "--labels", "paper")
    assert refused.returncode == 2 and "uses all" in refused.stderr
    assert not out.exists()
    result = run_cli(os.path.join("benchmarks", "accuracy.py"), *args)
    assert result.returncode == 0, result.stderr[-2000:]
    with open(out / "accuracy-baseline_all_labels.json") as f:
        record = json.load(f)
    assert record["num_labeled"] == 0
    assert record["settings"]["d_loss"] == "supervised"
    assert record["settings"]["model"] == "improved_gan"
    run_dirs = os.listdir(out / "runs")
    with open(out / "runs" / run_dirs[0] / "config.json") as f:
        saved = json.load(f)["config"]
    assert saved["num_labeled"] == 0 and saved["d_loss"] == "supervised"
    with open(out / "runs" / run_dirs[0] / "labeled_ids.txt") as f:
        seen = f.read().split()
    with open(os.path.join(mnist_dir, "mnist", "id_train.txt")) as f:
        train_ids = f.read().split()
    assert len(train_ids) > 100 and sorted(seen) == sorted(train_ids)


def test_the_time_fitted_form_records_the_schedule_it_settled_on(tmp_path,
                                                                mnist_dir):
    out = tmp_path / "out"
    result = run_cli(os.path.join("benchmarks", "accuracy.py"), "--variant",
                     "baseline", "--seeds", "1", "--minutes", "0.1",
                     "--fit_time", "--dataset_dir", mnist_dir, "--mirror", "",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    with open(out / "accuracy-baseline-fitted0.1min.json") as f:
        record = json.load(f)
    run, = record["runs"]
    assert record["fit_time"] is True
    assert run["schedule"]["final_step"] == run["final_step"] < 60000
    refused = run_cli(os.path.join("benchmarks", "accuracy.py"), "--fit_time",
                      "--steps", "5", "--dataset_dir", mnist_dir,
                      "--out", str(out))
    assert refused.returncode == 2 and "--fit_time" in refused.stderr


def test_seed_ranges_one_labeled_subset_and_the_papers_statistic(tmp_path,
                                                                 mnist_dir):
    """--seeds 1-2 trains seeds 1 and 2; --label_seed 2 gives both the labels
    that seed 2 draws, so only the training draws differ; the runs that end
    their schedule go into the statistic file, with the training code's
    commit. An empty range is refused."""
    out = tmp_path / "out"
    common = ["--variant", "baseline", "--steps", "3", "--dataset_dir",
              mnist_dir, "--mirror", "", "--out", str(out), "--set",
              "jit_compile=False"]
    refused = run_cli(os.path.join("benchmarks", "accuracy.py"), *common,
                      "--seeds", "3-1")
    assert refused.returncode == 2 and "'3-1' is empty" in refused.stderr
    result = run_cli(os.path.join("benchmarks", "accuracy.py"), *common,
                     "--seeds", "1-2", "--label_seed", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    with open(out / "paper-statistic-baseline-jit_compileFalse-labelseed2"
                   ".json") as f:
        record = json.load(f)
    assert list(record["runs"]) == ["1", "2"] and record["steps"] == 3
    assert record["labels"] == "seed 2's draw"
    assert set(record["accuracy"]) == {"1", "2"}
    assert record["statistic"]["end"]["seeds"] == 2
    assert record["commit"] != "unknown"
    assert "| **mean ± std** |" in result.stdout
    labeled = {}
    for run_dir in os.listdir(out / "runs"):
        with open(out / "runs" / run_dir / "config.json") as f:
            seed = json.load(f)["config"]["seed"]
        with open(out / "runs" / run_dir / "labeled_ids.txt") as f:
            labeled[seed] = sorted(f.read().split())
    with open(out / "labeled_ids-seed2.txt") as f:
        drawn = sorted(f.read().split())
    assert labeled == {1: drawn, 2: drawn} and len(drawn) == 100
