"""A full disk: one `error:` line naming the folder and the space needed;
the newest complete checkpoint stays the newest, nothing half-written is
left, and the same command runs once space is freed."""

import os
import re
import subprocess

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from ssgan_tf import training
from ssgan_tf.config import Config
from ssgan_tf.data import format as data_format
from ssgan_tf.errors import UserError

from conftest import assert_one_line_error, run_cli, write_tiny_dataset

SMALL = dict(dataset="tiny", batch_size=8, n_z=16, log_step=5,
             test_sample_step=5, output_save_step=100, write_summary_step=5,
             steps_per_call=5, ckpt_save_step=5, run_name="full")


def test_a_checkpoint_that_finds_the_disk_full(tmp_path, monkeypatch):
    """The third save fails midway (ENOSPC as TensorFlow reports it, after
    writing part of its files): the error names the run folder, the space
    and the newest checkpoint, which stays the newest; the run resumes."""
    write_tiny_dataset(tmp_path / "data")
    config = Config(dataset_dir=str(tmp_path / "data"),
                    train_dir=str(tmp_path / "runs"), max_training_steps=30,
                    **SMALL)
    real_save = tf.train.CheckpointManager.save
    calls = []

    def full_disk_save(manager, checkpoint_number=None, **kwargs):
        calls.append(checkpoint_number)
        if len(calls) < 3:
            return real_save(manager, checkpoint_number=checkpoint_number,
                             **kwargs)
        prefix = os.path.join(manager.directory, f"model-{checkpoint_number}")
        os.makedirs(prefix + "_temp")
        open(prefix + ".data-00000-of-00001", "wb").close()
        raise tf.errors.ResourceExhaustedError(
            None, None, f"{prefix}_temp/part-00000-of-00001.data-00000-of-"
                        f"00001.tempstate1; No space left on device")
    monkeypatch.setattr(tf.train.CheckpointManager, "save", full_disk_save)
    with pytest.raises(UserError) as info:
        training.run(config, log=lambda *a: None)
    run = str(tmp_path / "runs" / "full")
    message = str(info.value)
    assert "\n" not in message
    for fragment in (run, "no space left", "model-10"):
        assert fragment in message, message
    assert re.search(r"needed about \d+\.\d [KMG]B", message), message
    assert tf.train.latest_checkpoint(run).endswith("model-10")
    assert not [n for n in os.listdir(run)
                if "_temp" in n or n.startswith("model-15")]
    monkeypatch.setattr(tf.train.CheckpointManager, "save", real_save)
    resumed = training.run(Config(checkpoint=run, max_training_steps=30,
                                  dataset_dir=str(tmp_path / "data")),
                           log=lambda *a: None)
    assert resumed["step"] == 30
    assert tf.train.latest_checkpoint(run).endswith("model-30")


@pytest.fixture
def small_disk(tmp_path):
    """mount(size) -> a real tmpfs of that size (mounting needs root:
    skipped elsewhere); unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()

    def make(size):
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}",
                               "tmpfs", str(mount)], capture_output=True,
                              text=True, check=False)
        if made.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()!r}")
        return mount
    yield make
    subprocess.run(["umount", "-l", str(mount)], capture_output=True,
                   check=False)


def grow(mount, size):
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)],
                   check=True)


TINY_RUN = ["--dataset", "tiny", "--batch_size", "8", "--n_z", "16",
            "--ckpt_save_step", "10", "--steps_per_call", "10",
            "--log_step", "10", "--test_sample_step", "10",
            "--output_save_step", "10", "--write_summary_step", "10"]


def test_training_on_a_full_tmpfs_stops_with_one_line(tmp_path, small_disk):
    """A disk that holds two checkpoints and a little more: the save that
    does not fit ends the run with one line; the newest complete checkpoint
    loads, and the same run continues once the disk is grown."""
    write_tiny_dataset(tmp_path / "data")
    data = ["--dataset_dir", str(tmp_path / "data")]
    sizing = run_cli("trainer.py", *TINY_RUN, *data, "--train_dir",
                     str(tmp_path / "sizing"), "--run_name", "s",
                     "--max_training_steps", "10")
    assert sizing.returncode == 0, sizing.stderr[-3000:]
    one = sum(os.path.getsize(p) for p in
              (tmp_path / "sizing" / "s").glob("model-10.*"))
    disk = small_disk(int(2.6 * one))
    result = run_cli("trainer.py", *TINY_RUN, *data, "--train_dir", str(disk),
                     "--run_name", "full", "--max_training_steps", "400")
    run = disk / "full"
    assert_one_line_error(result, str(run), "no space left")
    assert not [n for n in os.listdir(run) if n.endswith("_temp")]
    latest = tf.train.latest_checkpoint(str(run))
    assert latest is not None and latest in result.stderr
    tf.train.load_checkpoint(latest)  # complete and readable
    step = int(latest.rsplit("-", 1)[1])
    grow(disk, int((step // 10 + 3) * one) + (20 << 20))
    result = run_cli("trainer.py", "--checkpoint", str(run),
                     "--max_training_steps", str(step + 10))
    assert result.returncode == 0, result.stderr[-3000:]
    assert tf.train.latest_checkpoint(str(run)).endswith(f"model-{step + 10}")


def test_converting_onto_a_full_tmpfs_writes_nothing(tmp_path, small_disk):
    rng = np.random.RandomState(0)
    for index in range(120):  # 1.5 MB of pixels, twice over on disk
        folder = tmp_path / "images" / "ab"[index % 2]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.randint(0, 256, (64, 64, 3)).astype(np.uint8)
                        ).save(folder / f"{index}.png", compress_level=0)
    disk = small_disk("2m")
    command = ["download.py", "--from_folder", str(tmp_path / "images"),
               "--name", "big", "--dataset_dir", str(disk)]
    result = run_cli(*command)
    assert_one_line_error(result, str(disk / "big"), "no space left", "MB")
    assert os.listdir(disk) == []
    grow(disk, "50m")
    result = run_cli(*command)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(data_format.load_dataset(str(disk), "big")) == 120


def fill(mount):
    """Writes a file until the disk `mount` is full."""
    fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def test_a_disk_full_before_the_first_step_is_one_line(tmp_path, small_disk):
    """A new run and a resume on a disk that is already full: one line, and
    the disk holds what it held (no folder holding only .lock)."""
    write_tiny_dataset(tmp_path / "data")
    data = ["--dataset_dir", str(tmp_path / "data")]
    done = run_cli("trainer.py", *TINY_RUN, *data, "--train_dir",
                   str(tmp_path / "runs"), "--run_name", "done",
                   "--max_training_steps", "10")
    assert done.returncode == 0, done.stderr[-3000:]
    import shutil
    size = sum(p.stat().st_size for p in (tmp_path / "runs" / "done").glob("*"))
    disk = small_disk(size + (2 << 20))
    shutil.copytree(tmp_path / "runs" / "done", disk / "done")
    fill(disk)
    before = {p: os.path.getsize(os.path.join(d, p))
              for d, _, names in os.walk(disk) for p in names}
    result = run_cli("trainer.py", *TINY_RUN, *data, "--train_dir", str(disk),
                     "--run_name", "new", "--max_training_steps", "20")
    assert_one_line_error(result, str(disk), "no space left")
    assert sorted(os.listdir(disk)) == ["done", "filler"]
    result = run_cli("trainer.py", "--checkpoint", str(disk / "done"),
                     "--max_training_steps", "20")
    assert_one_line_error(result, str(disk / "done"), "no space left")
    after = {p: os.path.getsize(os.path.join(d, p))
             for d, _, names in os.walk(disk) for p in names}
    assert after == before
