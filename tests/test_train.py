"""Training end to end on a tiny dataset, through trainer.py: run-folder and
checkpoint names, TensorBoard tags read back, resume, flags, bad checkpoints."""

import glob
import json
import os
import re
import shutil

import pytest
import tensorflow as tf
from google.protobuf import json_format
from tensorboard.plugins.hparams import plugin_data_pb2

from ssgan_tf.training import summaries

from conftest import assert_one_line_error, run_cli, write_tiny_dataset

ORIGINAL_FLAGS = ["--prefix", "tinyrun", "--batch_size", "8", "--n_z", "16",
                  "--norm_type", "batch", "--deconv_type", "bilinear",
                  "--log_step", "10", "--write_summary_step", "10",
                  "--ckpt_save_step", "20", "--test_sample_step", "20",
                  "--output_save_step", "20", "--max_sample", "0",
                  "--learning_rate_g", "0.0005", "--learning_rate_d", "0.0005",
                  "--update_rate", "1", "--seed", "3"]


def read_events(run_dir):
    """{tag: {step: value or None}} from every event file of the run."""
    tags = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                number = None
                if value.metadata.plugin_data.plugin_name == "scalars":
                    number = float(tf.make_ndarray(value.tensor))
                tags.setdefault(value.tag, {})[event.step] = number
    return tags


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    write_tiny_dataset(root / "data", count=64, shape=(12, 12, 1))
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--train_dir", str(root / "runs"),
                     "--max_training_steps", "40", "--dump_result", "True",
                     "--max_seconds", "600", *ORIGINAL_FLAGS)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = os.listdir(root / "runs")
    assert len(runs) == 1
    return root, os.path.join(root / "runs", runs[0]), result


def test_run_folder_and_checkpoint_names(trained):
    _, run_dir, _ = trained
    name = os.path.basename(run_dir)
    assert re.fullmatch(r"tinyrun-tiny_lr_g_0\.0005_d_0\.0005_update_G1D1-"
                        r"\d{8}-\d{6}", name), name
    for step in (20, 40):
        assert os.path.isfile(os.path.join(run_dir, f"model-{step}.index"))
    assert tf.train.latest_checkpoint(run_dir).endswith("model-40")
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["config"]["batch_size"] == 8
    assert config["data"]["image_shape"] == [12, 12, 1]
    assert config["strategy"]["per_replica_batch"] == 8
    assert os.path.isfile(os.path.join(run_dir, "g_img_40.hy"))  # --dump_result


def test_event_files_hold_every_original_tag(trained):
    _, run_dir, _ = trained
    tags = read_events(run_dir)
    for tag in summaries.SCALAR_TAGS.values():
        assert set(tags[tag]) == {10, 20, 30, 40}, tag
    assert set(tags["test/accuracy"]) == {20, 40}
    assert "img/fake" in tags and "img/real" in tags
    assert tags["loss/recon_weight"][10] == pytest.approx(
        10.0 * (1500 - 10) / 1500, rel=1e-3)


def test_tensorboard_shows_what_the_run_was(trained):
    _, run_dir, _ = trained
    tags = read_events(run_dir)
    # both learning rates (constant here: no decay)
    for tag in ("lr/discriminator", "lr/generator"):
        assert sorted(tags[tag]) == [10, 20, 30, 40]
        assert list(tags[tag].values()) == pytest.approx([0.0005] * 4)
    hparams, text = {}, None
    for path in glob.glob(os.path.join(run_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data
                if plugin.plugin_name == "hparams" and \
                        value.tag == "_hparams_/session_start_info":
                    data = plugin_data_pb2.HParamsPluginData.FromString(
                        plugin.content)
                    hparams = {k: json_format.MessageToDict(v) for k, v in
                               data.session_start_info.hparams.items()}
                elif value.tag.startswith("config"):
                    text = tf.make_ndarray(value.tensor).item().decode()
    assert hparams["batch_size"] == 8 and hparams["seed"] == 3
    assert hparams["model"] == "original"
    # the settings that define the run, not where it writes or how often
    assert "log_step" not in hparams and "train_dir" not in hparams
    assert "learning_rate_d" in hparams and "num_labeled" in hparams
    config = json.loads(text.strip("`\n"))
    assert config["learning_rate_d"] == 0.0005 and "log_step" in config


def test_discriminator_loss_goes_down(trained):
    _, run_dir, _ = trained
    d_loss = read_events(run_dir)["loss/d_loss"]
    assert d_loss[40] < d_loss[10]


def test_max_seconds_with_max_training_steps_is_a_stop(trained):
    # the steps win: the run ends at step 40 with the configured schedule
    _, run_dir, result = trained
    info = json.loads(open(os.path.join(run_dir, "config.json")).read())
    assert info["config"]["fit_to_time"] is False
    assert info["schedule"] == {"final_step": 40, "decay_start": 40.0,
                                "fitted_to_seconds": None}
    assert "fitted" not in result.stdout


def test_max_seconds_alone_fits_the_schedule_and_ends_its_decay(tmp_path):
    write_tiny_dataset(tmp_path / "data", count=64, shape=(12, 12, 1))
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--train_dir",
                     str(tmp_path / "runs"), "--max_seconds", "15",
                     "--lr_decay_fraction", "0.5",
                     *ORIGINAL_FLAGS)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = glob.glob(str(tmp_path / "runs" / "*"))[0]
    info = json.loads(open(os.path.join(run_dir, "config.json")).read())
    schedule = info["schedule"]
    final = schedule["final_step"]
    assert info["config"]["fit_to_time"] is True
    assert schedule["fitted_to_seconds"] == 15.0 and final > 20
    assert os.path.isfile(os.path.join(run_dir, f"model-{final}.index"))
    assert f"--max_training_steps {final} trains as many steps" in \
        result.stdout
    assert re.search(r"--max_seconds 15: about \d+ steps fit", result.stdout)
    # the learning rate: the peak at first, 0 at the final step
    rates = read_events(run_dir)["lr/discriminator"]
    assert rates[20] == pytest.approx(0.0005)
    assert rates[final] == 0.0
    assert min(s for s, r in rates.items() if r < 0.0005) > final / 3


def test_progress_lines_report_test_accuracy(trained):
    _, _, result = trained
    assert "step 40/40" in result.stdout + result.stderr
    assert "test accuracy" in result.stdout + result.stderr


def test_tensorflow_python_info_lines_stay_hidden(trained):
    # TensorFlow logs a "Sharding callback duration" INFO line through absl at
    # every checkpoint save; absl shows INFO unless the CLI lowers it.
    _, _, result = trained
    info = [line for line in (result.stdout + result.stderr).splitlines()
            if re.match(r"I\d{4} [\d:.]+ +\d+ \S+\.py:\d+\]", line)]
    assert not info, info


def test_resume_continues_step_and_optimizer_state(trained, tmp_path):
    root, run_dir, _ = trained
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint",
                     os.path.join(run_dir, "model-40"),
                     "--max_training_steps", "50", *ORIGINAL_FLAGS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resumed from" in result.stdout and "at step 40" in result.stdout
    assert os.path.isfile(os.path.join(run_dir, "model-50.index"))
    assert len(os.listdir(root / "runs")) == 1  # the run folder was reused
    reader = tf.train.load_checkpoint(os.path.join(run_dir, "model-50"))
    # `step` is the D optimizer's own iteration counter (saved once, under
    # this key): had the optimizer state been re-created it would read 10.
    assert int(reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE")) == 50
    before = tf.train.load_checkpoint(os.path.join(run_dir, "model-40"))
    moment = "d_optimizer/_variables/1/.ATTRIBUTES/VARIABLE_VALUE"
    assert before.get_tensor(moment).any()  # Adam's moments were saved ...


def test_a_resume_alone_continues_with_the_runs_own_settings(trained):
    root, run_dir, _ = trained
    # No --dataset (its default is CIFAR10), no --dataset_dir, no batch size:
    # all come from the run's config.json; --max_training_steps is new.
    start = int(tf.train.latest_checkpoint(run_dir).rsplit("-", 1)[1])
    result = run_cli("trainer.py", "--checkpoint", run_dir,
                     "--max_training_steps", str(start + 10))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming with the settings of" in result.stdout
    assert "given now: --max_training_steps" in result.stdout
    assert os.path.isfile(os.path.join(run_dir, f"model-{start + 10}.index"))
    assert len(os.listdir(root / "runs")) == 1
    config = json.load(open(os.path.join(run_dir, "config.json")))["config"]
    assert (config["dataset"], config["batch_size"], config["n_z"],
            config["learning_rate_d"], config["seed"]) == ("tiny", 8, 16,
                                                           0.0005, 3)
    assert config["max_training_steps"] == start + 10


def test_a_resume_with_a_broken_config_json_is_refused(trained, tmp_path):
    _, run_dir, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    info = json.load(open(copy / "config.json"))
    info["config"]["batch_size"] = "eight"
    json.dump(info, open(copy / "config.json", "w"))
    before = sorted(os.listdir(copy))
    result = run_cli("trainer.py", "--checkpoint", str(copy))
    assert_one_line_error(result, "config.json", "batch_size")
    assert sorted(os.listdir(copy)) == before


def test_bad_checkpoint_path(tmp_path):
    write_tiny_dataset(tmp_path / "data")
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--checkpoint",
                     str(tmp_path / "runs" / "model-99"))
    assert_one_line_error(result, "--checkpoint", "model-99")


def test_checkpoint_for_another_shape(trained, tmp_path):
    _, run_dir, _ = trained
    # the run's dataset, replaced by images of another shape (the same ids)
    write_tiny_dataset(tmp_path / "data", shape=(16, 16, 3), count=64)
    result = run_cli("trainer.py", "--dataset_dir", str(tmp_path / "data"),
                     "--checkpoint", run_dir)
    assert_one_line_error(result, "image shape", "tiny")


def test_missing_dataset_and_bad_flag_values(tmp_path):
    result = run_cli("trainer.py", "--dataset", "nothere", "--dataset_dir",
                     str(tmp_path))
    assert_one_line_error(result, "nothere")
    write_tiny_dataset(tmp_path / "data")
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--batch_size", "0")
    assert_one_line_error(result, "--batch_size")
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--clip_norm", "-1",
                     "--train_dir", str(tmp_path / "runs"))
    assert_one_line_error(result, "--clip_norm")
    assert not os.path.exists(tmp_path / "runs")
    # a negative rate used to train (upside down) without a word
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--learning_rate_d", "-1",
                     "--train_dir", str(tmp_path / "runs"))
    assert_one_line_error(result, "--learning_rate_d")
    assert not os.path.exists(tmp_path / "runs")


@pytest.mark.parametrize("argv, fragment", [
    (["--g_extra_update_above", "1"], "--g_extra_update_above was removed"),
    (["--nog_bn_scale"], "--g_bn_scale is no longer a flag")])
def test_removed_flags_are_one_line(tmp_path, argv, fragment):
    write_tiny_dataset(tmp_path / "data")
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(tmp_path / "data"), "--train_dir",
                     str(tmp_path / "runs"), *argv)
    assert_one_line_error(result, fragment)
    assert not os.path.exists(tmp_path / "runs")


def test_a_run_folder_naming_removed_settings_resumes_and_evaluates(
        trained, tmp_path):
    root, run_dir, _ = trained
    copy = tmp_path / "old_run"
    shutil.copytree(run_dir, copy)
    info = json.load(open(copy / "config.json"))
    info["config"].update(d_noise="fresh", g_shares_d_pass=False,
                          g_extra_update_above=0.0)
    json.dump(info, open(copy / "config.json", "w"))
    start = int(tf.train.latest_checkpoint(str(copy)).rsplit("-", 1)[1])
    result = run_cli("trainer.py", "--checkpoint", str(copy),
                     "--max_training_steps", str(start + 4))
    assert result.returncode == 0, result.stderr[-3000:]
    notes = [line for line in result.stdout.splitlines() if "ignoring" in line]
    assert notes == [f"{copy}/config.json: ignoring settings this version "
                     f"removed: d_noise, g_extra_update_above, "
                     f"g_shares_d_pass"]
    assert os.path.isfile(copy / f"model-{start + 4}.index")
    saved = json.load(open(copy / "config.json"))["config"]
    assert "d_noise" not in saved and "g_shares_d_pass" not in saved
    result = run_cli("evaler.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--checkpoint", str(copy),
                     "--noplots")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"at step {start + 4}" in result.stdout
