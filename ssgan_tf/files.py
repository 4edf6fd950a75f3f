"""Files written whole or not at all.

Every file a run or a dataset folder holds is written under a temporary name
in the same folder and renamed over its final name last: a kill mid-write
leaves the previous file (or none), never a truncated one.
"""

import contextlib
import errno
import glob
import json
import os
import shutil
import tempfile
from typing import Optional

from ssgan_tf.errors import UserError


@contextlib.contextmanager
def atomic_path(path: str):
    """Yields a temporary path beside `path`; on success it replaces `path`.

    For writers that want a file name (h5py, numpy, matplotlib, PIL). On an
    exception the temporary file is removed and `path` is left as it was.
    """
    folder, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"{path}: no such folder {folder}")
    suffix = os.path.splitext(name)[1]  # writers that pick a format by it
    handle, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".tmp{suffix}",
                                   dir=folder)
    os.close(handle)
    os.chmod(tmp, 0o666 & ~umask())  # mkstemp's 0600 would hide it from others
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def remove_temporaries(folder: str, name: str):
    """Removes what atomic_path and mkstemp-style writers of `name` left in
    `folder` when killed midway (`.<name>.*.tmp*`): called once a new
    `name` is in place, when they can only be stale."""
    stem = name if name.startswith(".") else f".{name}"
    for found in glob.glob(os.path.join(glob.escape(folder),
                                        glob.escape(stem) + ".*.tmp*")):
        try:
            os.remove(found)
        except OSError:
            pass


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str, text: str):
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def write_json(path: str, value, **kwargs):
    write_text(path, json.dumps(value, **kwargs))


def write_lines(path: str, lines):
    write_text(path, "".join(f"{line}\n" for line in lines))


def copy_file(source: str, path: str):
    """Copies `source` to `path`, whole or not at all."""
    with atomic_path(path) as tmp:
        shutil.copyfile(source, tmp)


def out_of_space(error: BaseException) -> bool:
    """Whether `error` says the disk is full: an OSError's ENOSPC, or the
    message TensorFlow's and HDF5's writers pass on."""
    return getattr(error, "errno", None) == errno.ENOSPC or \
        "No space left on device" in str(error) or "errno = 28" in str(error)


def no_space(folder: str, needed_bytes: Optional[int] = None,
             detail: str = "") -> UserError:
    """The one-line error for a full disk; `detail` says what was kept."""
    needed = "" if needed_bytes is None else \
        f" (the write needed about {size_text(needed_bytes)})"
    return UserError(f"{folder}: no space left on the device{needed}"
                     f"{detail}; free some space and run the same command "
                     f"again")


def size_text(count: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "bytes" else \
                f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"
