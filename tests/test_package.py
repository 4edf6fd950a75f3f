"""The library as a notebook imports it: no change to the process."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = """
import json, os, sys
before = dict(os.environ)
import tensorflow  # TensorFlow's own import is not ours to judge
after_tensorflow = dict(os.environ)
import ssgan_tf
import ssgan_tf.checkpoint, ssgan_tf.config, ssgan_tf.evaler, ssgan_tf.evaluate
import ssgan_tf.models, ssgan_tf.objectives, ssgan_tf.plots, ssgan_tf.training
import ssgan_tf.data.folder, ssgan_tf.data.sources, ssgan_tf.data.splits
after = dict(os.environ)
json.dump({"changed": sorted(k for k in set(before) | set(after)
                             if before.get(k) != after.get(k)
                             and after_tensorflow.get(k) == before.get(k))},
          sys.stdout)
"""


def test_importing_the_library_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL")}
    env["PYTHONPATH"] = ROOT
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env,
                            capture_output=True, text=True, check=False,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "changed": []}


def test_the_command_lines_set_tensorflows_environment():
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL")}
    env["PYTHONPATH"] = ROOT
    script = ("import os, ssgan_tf.cli.train; print(os.environ.get("
              "'TF_ENABLE_ONEDNN_OPTS'), os.environ.get('TF_CPP_MIN_LOG_LEVEL'))")
    result = subprocess.run([sys.executable, "-c", script], env=env,
                            capture_output=True, text=True, check=False,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ["1", "2"]
