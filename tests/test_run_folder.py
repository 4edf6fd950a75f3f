"""Run folders: names that never collide, one trainer per folder."""

import os
import signal
import subprocess
import sys

import pytest

from ssgan_tf import run_folder
from ssgan_tf.config import Config
from ssgan_tf.errors import UserError

from conftest import ROOT


def test_default_names_get_a_suffix_when_taken(tmp_path):
    name = run_folder.default_name(Config(dataset="MNIST"), "20260101-000000")
    assert name == ("default-MNIST_lr_g_0.0001_d_0.0001_update_G1D1-"
                    "20260101-000000")
    first = run_folder.create(str(tmp_path), name, explicit=False)
    second = run_folder.create(str(tmp_path), name, explicit=False)
    third = run_folder.create(str(tmp_path), name, explicit=False)
    assert (os.path.basename(first), os.path.basename(second),
            os.path.basename(third)) == (name, f"{name}-2", f"{name}-3")


def test_an_explicit_name_that_exists_is_refused(tmp_path):
    run_folder.create(str(tmp_path), "mine", explicit=True)
    with pytest.raises(UserError, match="--run_name mine: .* --checkpoint"):
        run_folder.create(str(tmp_path), "mine", explicit=True)


def test_a_run_that_never_saved_is_started_again_under_its_name(tmp_path):
    """A folder whose run wrote its files but no checkpoint (killed in its
    first save) is reused by --run_name: the run's files go, the user's
    stay; a folder with a checkpoint, or in use, is still refused."""
    path = run_folder.create(str(tmp_path), "mine", explicit=True)
    for name in ("config.json", "labeled_ids.txt", "fixed_noise.npy",
                 "events.out.tfevents.1.host", "notes.txt", ".lock"):
        with open(os.path.join(path, name), "w") as f:
            f.write("x")
    os.mkdir(os.path.join(path, "model-5_temp"))
    with run_folder.Lock(path):
        with pytest.raises(UserError, match="already exists"):
            run_folder.create(str(tmp_path), "mine", explicit=True)
    assert run_folder.create(str(tmp_path), "mine", explicit=True) == path
    assert sorted(os.listdir(path)) == [".lock", "notes.txt"]
    with open(os.path.join(path, "config.json"), "w") as f:
        f.write("x")
    open(os.path.join(path, "model-10.index"), "w").close()
    with pytest.raises(UserError, match="already exists"):
        run_folder.create(str(tmp_path), "mine", explicit=True)


HOLDER = """
import sys, time
from ssgan_tf.run_folder import Lock
lock = Lock(sys.argv[1])
print("locked", flush=True)
time.sleep(120)
"""


def test_a_locked_folder_is_refused_until_its_holder_dies(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match=f"pid {holder.pid}"):
            run_folder.Lock(str(tmp_path))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    # the lock died with its process: no stale lock
    with run_folder.Lock(str(tmp_path)):
        with pytest.raises(UserError, match="another trainer"):
            run_folder.Lock(str(tmp_path))
    run_folder.Lock(str(tmp_path)).release()


def test_stale_save_folders_are_removed(tmp_path):
    (tmp_path / "model-20_temp").mkdir()
    (tmp_path / "model-20_temp" / "part-00000").write_text("half")
    (tmp_path / "notes_temp").mkdir()  # not ours
    lines = []
    run_folder.remove_stale_temporaries(str(tmp_path), lines.append)
    assert sorted(os.listdir(tmp_path)) == ["notes_temp"]
    assert len(lines) == 1 and "model-20_temp" in lines[0]
