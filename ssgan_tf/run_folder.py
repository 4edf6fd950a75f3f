"""Run folders: the original's names, one trainer per folder, a new run never
in an old run's folder.

    train_dir/<prefix>-<DATASET>_lr_g_<lr_g>_d_<lr_d>_update_G<rate>D1-<YYYYmmdd-HHMMSS>/
"""

import fcntl
import glob
import os
import shutil
import time

from ssgan_tf.errors import UserError

LOCK_FILE = ".lock"
# What a trainer writes into its folder before its first checkpoint.
UNSAVED_RUN_FILES = ("config.json", "labeled_ids.txt", "train_ids.txt",
                     "test_ids.txt", "fixed_noise.npy",
                     "events.out.tfevents.*", "samples-*.png", "g_img_*.hy",
                     "model-*_temp", LOCK_FILE)


def default_name(config, timestamp=None) -> str:
    """The original's run-folder name."""
    stamp = timestamp or time.strftime("%Y%m%d-%H%M%S")
    return (f"{config.prefix}-{config.dataset}_lr_g_{config.learning_rate_g}"
            f"_d_{config.learning_rate_d}_update_G{config.update_rate}D1-{stamp}")


def create(train_dir: str, name: str, explicit: bool) -> str:
    """Makes a new, empty run folder and returns its path.

    An explicit name (--run_name) that exists is an error; a default name that
    exists (two runs started in the same second) gets a suffix -2, -3, ...
    """
    os.makedirs(train_dir, exist_ok=True)
    path = os.path.join(train_dir, name)
    suffix = 1
    while True:
        try:
            os.mkdir(path)  # atomic: of two runs, one gets the name
            return path
        except FileExistsError:
            if explicit and _reuse_unsaved(path):
                return path
            if explicit:
                raise UserError(
                    f"--run_name {name}: {path} already exists; continue that "
                    f"run with --checkpoint {path}, or choose another name"
                ) from None
        suffix += 1
        path = os.path.join(train_dir, f"{name}-{suffix}")


def _reuse_unsaved(path: str) -> bool:
    """Whether `path` is a run folder whose run never saved a checkpoint
    (killed during its first save, say) and that no trainer uses: then what
    that run wrote is removed, so that its --run_name starts afresh there.
    Anything else in the folder stays."""
    if not os.path.isfile(os.path.join(path, "config.json")) or \
            glob.glob(os.path.join(glob.escape(path), "model-*.index")):
        return False
    try:
        with Lock(path):
            for pattern in UNSAVED_RUN_FILES:
                for found in glob.glob(os.path.join(glob.escape(path),
                                                    pattern)):
                    if os.path.isdir(found):
                        shutil.rmtree(found, ignore_errors=True)
                    elif os.path.basename(found) != LOCK_FILE:
                        os.remove(found)
    except UserError:
        return False  # a trainer is using it
    return True


class Lock:
    """An OS lock on a run folder, held while a trainer uses it.

    flock() locks die with the process, so a killed trainer never leaves a
    stale lock; the lock file itself stays behind, harmless.
    """

    def __init__(self, run_dir: str):
        self.path = os.path.join(run_dir, LOCK_FILE)
        self.handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise UserError(f"{run_dir}: another trainer ({holder}) is using "
                            f"this run folder; wait for it to finish or use "
                            f"another folder") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}\n")
        self.handle.flush()

    def release(self):
        if not self.handle.closed:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def remove_stale_temporaries(run_dir: str, log=print):
    """Removes the `model-<step>_temp` folders a save killed midway left."""
    for name in sorted(os.listdir(run_dir)):
        path = os.path.join(run_dir, name)
        if name.startswith("model-") and name.endswith("_temp") and \
                os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
            log(f"removed {path}, left by a save that was interrupted")
