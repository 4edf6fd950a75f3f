"""benchmarks/gain.py: the GAN's readings over the baseline's, at one step."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import gain  # noqa: E402  pylint: disable=wrong-import-position


def history(*points):
    return [{"step": step, "seconds": 1.0, "test_accuracy": accuracy}
            for step, accuracy in points]


def write(path, data):
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture(name="files")
def fixture_files(tmp_path):
    # seeds 1 and 2 of the GAN from benchmarks/accuracy.py, seed 3 from
    # benchmarks/run_accuracy.py; the baseline's three seeds in one file
    gan_12 = write(tmp_path / "gan12.json", {"runs": [
        {"seed": 1, "history": history((300, 0.70), (600, 0.84))},
        {"seed": 2, "history": history((300, 0.71), (600, 0.80))}]})
    gan_3 = write(tmp_path / "gan3.json", {
        "config": {"seed": 3},
        "history": [{"step": 300, "minutes": 1.0, "test_accuracy": 0.90},
                    {"step": 600, "minutes": 2.0, "test_accuracy": 0.85}]})
    baseline = write(tmp_path / "base.json", {"runs": [
        {"seed": seed, "history": history((300, accuracy), (600, accuracy))}
        for seed, accuracy in ((1, 0.72), (2, 0.75), (3, 0.79))]})
    return gan_12, gan_3, baseline


def test_gains_are_read_at_the_step_asked_not_at_the_best(files, capsys):
    gan_12, gan_3, baseline = files
    gain.main(["--step", "600", "--gan", gan_12, gan_3,
               "--baseline", baseline])
    out = capsys.readouterr().out
    # 84 - 72, 80 - 75, 85 - 79 (seed 3's best, 90 at step 300, is not used)
    assert "seed 1: 84.00% 72.00% +12.00" in out
    assert "seed 2: 80.00% 75.00% +5.00" in out
    assert "seed 3: 85.00% 79.00% +6.00" in out
    assert "median gain +6.00 points over 3 seed(s)" in out
    # a seed on one side only is named, not counted
    gain.main(["--step", "600", "--gan", gan_12, "--baseline", baseline])
    out = capsys.readouterr().out
    assert "median gain +8.50 points over 2 seed(s)" in out
    assert "seed 3: baseline only, left out" in out


def test_a_missing_step_or_a_seed_twice_is_an_error_naming_the_file(files):
    gan_12, gan_3, baseline = files
    with pytest.raises(SystemExit, match="gan3.json: seed 3 has no reading "
                                         "at step 900"):
        gain.main(["--step", "900", "--gan", gan_3, "--baseline", baseline])
    with pytest.raises(SystemExit, match="gan12.json: seed 1 is also in"):
        gain.main(["--step", "600", "--gan", gan_12, gan_12,
                   "--baseline", baseline])
