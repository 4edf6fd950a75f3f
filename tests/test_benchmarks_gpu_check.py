"""benchmarks/gpu_check.py in its CPU form: every part runs and is
recorded, so the script is known to work before a GPU is lent."""

import json
import os

from conftest import run_cli


def test_gpu_check_runs_whole_on_a_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    result = run_cli(os.path.join("benchmarks", "gpu_check.py"), "--tiny",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["device"]["tensorflow"] and record["device"]["gpus"] == []
    forms = {(r["preset"], r["precision"], r["jit_compile"])
             for r in record["steps"]}
    assert forms == {("mnist_100", "float32", False),
                     ("mnist_100", "mixed", True),
                     ("svhn_1000", "float32", False),
                     ("cifar10_4000", "float32", False)}
    for row in record["steps"]:
        assert row["ms_per_step"] > 0 and row["compile_seconds"] > 0
        assert row["projected_schedule_hours"] > 0
    # the paper schedules: 60,000 steps; 900 and 1,200 epochs at batch 100
    schedules = {r["preset"]: r["schedule_steps"] for r in record["steps"]}
    assert schedules == {"mnist_100": 60000, "svhn_1000": 658800,
                         "cifar10_4000": 600000}
    assert record["placement"] == {"checked": False, "why": "no GPU"}
    assert record["mirrored"]["equal_to_1e-4"], record["mirrored"]
    assert record["user_path"]["ok"], record["user_path"]
    assert set(record["user_path"]["seconds"]) == {
        "download", "trainer", "evaler", "export", "load_saved_model"}
    assert "compile s" in result.stdout and "cifar10_4000" in result.stdout


def test_gpu_check_without_a_gpu_asks_for_tiny(tmp_path):
    result = run_cli(os.path.join("benchmarks", "gpu_check.py"), "--out",
                     str(tmp_path / "x.json"))
    assert result.returncode == 2 and "--tiny" in result.stderr
    assert not (tmp_path / "x.json").exists()


def test_the_largest_batch_is_measured_on_the_presets_networks():
    """Without --tiny the probe builds cifar10_4000 as the preset has it
    (d_width 96), doubling the batch until memory runs out."""
    import sys
    from conftest import ROOT
    sys.path.insert(0, ROOT)
    import tensorflow as tf
    from benchmarks import gpu_check
    seen = []

    def probe(preset, precision, jit, tiny, batch, calls):
        config, _ = gpu_check.config_for(preset, precision, jit, tiny, batch)
        seen.append((config.d_width, batch, calls))
        if batch > 400:
            raise tf.errors.ResourceExhaustedError(None, None, "out of memory")
    assert gpu_check.largest_batch(False, probe) == {"checked": True,
                                                     "largest_batch": 400}
    assert seen == [(96, 100, 1), (96, 200, 1), (96, 400, 1), (96, 800, 1)]
