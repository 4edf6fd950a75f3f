"""Files written whole or not at all."""

import os
import stat

import numpy as np
import pytest

from ssgan_tf import files


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "ids.txt"
    files.write_lines(str(path), ["a", "b"])
    assert path.read_text() == "a\nb\n"
    with pytest.raises(RuntimeError):
        with files.atomic_path(str(path)) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("killed mid-write")
    assert path.read_text() == "a\nb\n"
    assert os.listdir(tmp_path) == ["ids.txt"]


def test_writers_that_pick_a_format_by_name_get_the_suffix(tmp_path):
    path = tmp_path / "noise.npy"
    with files.atomic_path(str(path)) as tmp:
        assert tmp.endswith(".npy")
        np.save(tmp, np.arange(3))  # np.save would add .npy to another name
    np.testing.assert_array_equal(np.load(path), [0, 1, 2])
    assert os.listdir(tmp_path) == ["noise.npy"]


def test_a_written_file_has_the_usual_permissions(tmp_path):
    files.write_json(str(tmp_path / "a.json"), {"x": 1})
    mask = os.umask(0)
    os.umask(mask)
    mode = stat.S_IMODE(os.stat(tmp_path / "a.json").st_mode)
    assert mode == 0o666 & ~mask
    assert (tmp_path / "a.json").read_text() == '{"x": 1}'
