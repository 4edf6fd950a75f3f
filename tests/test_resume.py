"""Resume is continuation: a run stopped and resumed trains what the same run
uninterrupted trains, and a resume keeps what defines the run."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ssgan_tf import checkpoint as ckpt_lib, config as config_lib, training
from ssgan_tf.config import Config
from ssgan_tf.data import splits
from ssgan_tf.errors import UserError

from conftest import (ROOT, assert_one_line_error, run_cli,
                      write_tiny_dataset)

SCRIPT = os.path.join(ROOT, "tests", "resume_script.py")
ENV = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")

# The MNIST preset under XLA stopped by Ctrl-C, and a 32x32 preset without it
# (dropout, batch norm, the data-dependent initialization; narrow to keep the
# test short) stopped by --max_seconds. The 32x32 step under XLA equals its
# plain step (test_presets.py).
VARIANTS = {
    "mnist_100_xla": dict(preset="mnist_100", dataset="tiny28",
                          stops=["ctrl_c"]),
    "svhn_1000": dict(preset="svhn_1000", dataset="tiny32", d_width=8,
                      stops=["max_seconds"]),
}


def test_stopped_and_resumed_equals_uninterrupted(tmp_path):
    data = tmp_path / "data"
    write_tiny_dataset(data, name="tiny28", count=48, shape=(28, 28, 1))
    write_tiny_dataset(data, name="tiny32", count=48, shape=(32, 32, 3))
    out = tmp_path / "result.json"
    result = subprocess.run(
        [sys.executable, SCRIPT, str(out), str(data), str(tmp_path / "runs"),
         json.dumps(VARIANTS)], capture_output=True, text=True, timeout=900,
        env=ENV, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results) == {"mnist_100_xla/ctrl_c", "svhn_1000/max_seconds"}
    for name, found in results.items():
        # The first part stopped at step 3 of 6 and saved there; the resume
        # continued in the same folder to step 6.
        assert found["first_part_saved"] == [3], (name, found)
        assert found["resumed_in"] == f"{name.replace('/', '-')}"
        assert found["final_step"] == 6
        assert found["only_one"] == [] and found["tensors"] > 50
        assert found["max_abs_diff"] <= 1e-6, (name, found)


def tiny_config(tmp_path, **changes):
    values = dict(dataset="tiny", dataset_dir=str(tmp_path / "data"),
                  train_dir=str(tmp_path / "runs"), batch_size=8, n_z=8,
                  num_labeled=8, max_training_steps=6, steps_per_call=2,
                  log_step=2, write_summary_step=2, test_sample_step=6,
                  output_save_step=6, ckpt_save_step=2, run_name="first")
    values.update(changes)
    return Config(**values)


def steps(run_dir):
    return [step for step, _ in ckpt_lib.checkpoints(str(run_dir))]


def quiet(*args):
    pass


def test_resuming_an_earlier_checkpoint_continues_in_a_new_folder(tmp_path):
    write_tiny_dataset(tmp_path / "data", count=40)
    training.run(tiny_config(tmp_path), quiet)
    first = tmp_path / "runs" / "first"
    assert steps(first) == [2, 4, 6]
    lines = []
    # From Python with only what differs from the run: its settings, split
    # and labels come from the run folder.
    resumed = training.run(Config(checkpoint=str(first / "model-2"),
                                  dataset_dir=str(tmp_path / "data")),
                           lines.append)
    branch = tmp_path / "runs" / "first-from-2"
    assert resumed["run_dir"] == str(branch) and resumed["step"] == 6
    assert any("continuing in" in line and str(branch) in line
               for line in lines)
    assert steps(first) == [2, 4, 6]  # the abandoned line, untouched
    assert steps(branch) == [2, 4, 6]  # its start, copied, and its own line
    for name in ("labeled_ids.txt", "train_ids.txt", "test_ids.txt"):
        assert (branch / name).read_text() == (first / name).read_text()
    saved = json.loads((branch / "config.json").read_text())["config"]
    assert saved["num_labeled"] == 8 and saved["seed"] == 123
    # Each folder's newest is its own; resuming the new folder continues it.
    assert ckpt_lib.resolve_checkpoint(str(branch))[1] == str(branch /
                                                              "model-6")
    assert ckpt_lib.resolve_checkpoint(str(first))[1] == str(first / "model-6")
    again = training.run(Config(checkpoint=str(branch), max_training_steps=8,
                                dataset_dir=str(tmp_path / "data")), quiet)
    assert again["run_dir"] == str(branch) and steps(branch) == [2, 4, 6, 8]
    assert sorted(os.listdir(tmp_path / "runs")) == ["first", "first-from-2"]


def test_a_resume_keeps_the_runs_labels_and_split(tmp_path):
    """The labeled examples and the split are read from the run folder, never
    drawn again: here the run's record differs from what --seed would draw
    now, and the record wins."""
    write_tiny_dataset(tmp_path / "data", count=40)
    run = training.run(tiny_config(tmp_path, max_training_steps=2), quiet)
    run_dir = tmp_path / "runs" / "first"
    train_ids = (run_dir / "train_ids.txt").read_text().split()
    drawn = (run_dir / "labeled_ids.txt").read_text().split()
    chosen = [i for i in train_ids if i not in drawn][:8]
    (run_dir / "labeled_ids.txt").write_text("\n".join(chosen) + "\n")
    # config.json's record of them, as that run would have written it
    import hashlib
    info = json.loads((run_dir / "config.json").read_text())
    order = [i for i in train_ids if i in chosen]
    info["labels"] = {"count": 8, "ids_sha256": hashlib.sha256(
        "\n".join(order).encode("utf-8")).hexdigest()}
    (run_dir / "config.json").write_text(json.dumps(info))
    (run_dir / "test_ids.txt").write_text("\n".join(
        (run_dir / "test_ids.txt").read_text().split()[:5]) + "\n")
    resumed = training.run(Config(checkpoint=run["run_dir"],
                                  max_training_steps=4,
                                  dataset_dir=str(tmp_path / "data")), quiet)
    assert resumed["step"] == 4
    kept = (run_dir / "labeled_ids.txt").read_text().split()
    assert sorted(kept) == sorted(chosen) and not set(kept) & set(drawn)
    assert len((run_dir / "test_ids.txt").read_text().split()) == 5


@pytest.mark.parametrize("recorded", [True, False])
def test_a_damaged_labeled_ids_file_is_drawn_again_by_the_seed(tmp_path,
                                                               recorded):
    """labeled_ids.txt cut short (mid-line or at a line's end): the run's
    labels came from its seed, so they are drawn again, checked against
    config.json's record of them (or, for a run written without one,
    against --num_labeled), and the run resumes on them."""
    write_tiny_dataset(tmp_path / "data", count=40)
    run = training.run(tiny_config(tmp_path, max_training_steps=2), quiet)
    run_dir = tmp_path / "runs" / "first"
    labeled = (run_dir / "labeled_ids.txt").read_text()
    if not recorded:
        info = json.loads((run_dir / "config.json").read_text())
        del info["labels"]
        (run_dir / "config.json").write_text(json.dumps(info))
    cut = labeled[:len(labeled) // 2] if recorded else \
        "".join(labeled.splitlines(keepends=True)[:5])
    (run_dir / "labeled_ids.txt").write_text(cut)
    lines = []
    resumed = training.run(Config(checkpoint=run["run_dir"],
                                  max_training_steps=4,
                                  dataset_dir=str(tmp_path / "data")),
                           lines.append)
    assert resumed["step"] == 4
    assert (run_dir / "labeled_ids.txt").read_text() == labeled
    assert any("labeled_ids.txt" in line and "rebuilt from --seed 123" in line
               for line in lines), lines


def test_a_damaged_record_of_labels_from_a_file_is_an_error(tmp_path):
    write_tiny_dataset(tmp_path / "data", count=40)
    first = training.run(tiny_config(tmp_path, max_training_steps=2), quiet)
    listed = tmp_path / "mine.txt"
    listed.write_text((tmp_path / "runs" / "first" / "labeled_ids.txt")
                      .read_text())
    run = training.run(tiny_config(tmp_path, max_training_steps=2,
                                   run_name="second",
                                   labeled_ids=str(listed)), quiet)
    assert first["run_dir"] != run["run_dir"]
    path = tmp_path / "runs" / "second" / "labeled_ids.txt"
    path.write_text(path.read_text()[:7])
    with pytest.raises(UserError) as info:
        training.run(Config(checkpoint=run["run_dir"], max_training_steps=4,
                            dataset_dir=str(tmp_path / "data")), quiet)
    assert "labeled_ids.txt" in str(info.value)
    assert steps(run["run_dir"]) == [2]


@pytest.mark.parametrize("change, flag", [
    ({"seed": 5}, "--seed 5"), ({"num_labeled": 16}, "--num_labeled 16"),
    ({"model": "sgan"}, "--model sgan")])
def test_a_resume_refuses_another_value_of_what_defines_the_run(
        tmp_path, change, flag):
    write_tiny_dataset(tmp_path / "data", count=40)
    run = training.run(tiny_config(tmp_path, max_training_steps=2), quiet)
    with pytest.raises(UserError) as info:
        training.run(Config(checkpoint=run["run_dir"],
                            dataset_dir=str(tmp_path / "data"), **change),
                     quiet)
    assert flag in str(info.value) and run["run_dir"] in str(info.value)
    assert steps(run["run_dir"]) == [2]


def test_trainer_refuses_another_seed_on_resume(tiny_run):
    root, run_dir, _ = tiny_run
    before = sorted(os.listdir(run_dir))
    result = run_cli("trainer.py", "--checkpoint", run_dir, "--dataset_dir",
                     str(root / "data"), "--seed", "5")
    assert_one_line_error(result, "--seed 5", "--seed 123", run_dir)
    assert sorted(os.listdir(run_dir)) == before
    assert len(os.listdir(os.path.dirname(run_dir))) == 1


def test_data_that_lost_the_runs_ids_is_refused(tmp_path):
    _, ids, _, _ = write_tiny_dataset(tmp_path / "data", count=40)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "train_ids.txt").write_text("\n".join(ids[:30] + ["gone"]))
    (run_dir / "test_ids.txt").write_text("\n".join(ids[30:]))
    with pytest.raises(UserError) as info:
        splits.train_and_test(str(tmp_path / "data"), "tiny",
                              run_dir=str(run_dir))
    assert "train_ids.txt" in str(info.value) and "'gone'" in str(info.value)
    (run_dir / "train_ids.txt").write_text("\n".join(ids[10:30]))
    train, test = splits.train_and_test(str(tmp_path / "data"), "tiny",
                                        run_dir=str(run_dir))
    assert train.ids == ids[10:30] and test.ids == ids[30:]


def test_python_resume_merges_the_runs_settings_as_the_trainer_does():
    saved = Config(dataset="MNIST", seed=7, num_labeled=100, epochs=5,
                   learning_rate_d=0.01).__dict__
    config = config_lib.resumed(Config(checkpoint="run",
                                       max_training_steps=50), saved, "run")
    assert (config.dataset, config.seed, config.num_labeled) == ("MNIST", 7,
                                                                 100)
    assert config.learning_rate_d == 0.01
    # a length in steps given now replaces the run's length in epochs
    assert config.max_training_steps == 50 and config.epochs == 0
    with pytest.raises(UserError, match="--seed 8: run was trained with "
                                        "--seed 7"):
        config_lib.resumed(Config(checkpoint="run", seed=8), saved, "run")
    assert np.isfinite(config.learning_rate_g)
