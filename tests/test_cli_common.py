"""The command lines' shared runner: the original's argv styles, one-line
errors, and which Python log lines reach the user."""

import os
import subprocess
import sys

import pytest

from ssgan_tf.cli import common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = """
import sys

import pytest
from absl import logging
from ssgan_tf.cli import common
from ssgan_tf.errors import UserError

def main(argv):
    logging.info("an info line")
    logging.warning("a warning line")
    if "--fail" in sys.argv:
        raise UserError("--fail: asked to fail")

common.run(main, argv=[a for a in sys.argv if a != "--fail"])
"""


def run_script(*args):
    return subprocess.run([sys.executable, "-c", SCRIPT, *args],
                          capture_output=True, text=True, check=False,
                          env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)


def test_info_lines_hidden_unless_verbosity_is_given():
    quiet = run_script()
    assert quiet.returncode == 0, quiet.stderr
    assert "a warning line" in quiet.stderr
    assert "an info line" not in quiet.stderr
    for flag in (["--verbosity", "0"], ["-v", "0"]):
        verbose = run_script(*flag)
        assert verbose.returncode == 0, verbose.stderr
        assert "an info line" in verbose.stderr, flag


def test_user_error_is_one_line_and_exit_2():
    result = run_script("--fail")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "error: --fail: asked to fail"
    assert "Traceback" not in result.stderr


def test_multi_value_flags_are_joined():
    argv = ["download.py", "--dataset", "MNIST", "SVHN", "--mirror", "dir"]
    assert common.join_multi_values(argv, ["dataset"]) == [
        "download.py", "--dataset=MNIST,SVHN", "--mirror", "dir"]


def test_original_boolean_spelling_is_joined():
    argv = ["trainer.py", "--dump_result", "True", "--debug", "--x", "False"]
    assert common.join_bool_values(argv, ["dump_result", "debug"]) == [
        "trainer.py", "--dump_result=true", "--debug", "--x", "False"]


def test_a_flag_that_does_not_parse_is_one_line_and_exit_2():
    for argv, fragment in ((["--bogus_flag", "3"], "bogus_flag"),
                           (["--fail", "--verbosity", "loud"], "--verbosity")):
        result = run_script(*argv)
        assert result.returncode == 2, result.stderr
        errors = [line for line in result.stderr.splitlines()
                  if line.startswith("error:")]
        assert len(errors) == 1 and fragment in errors[0], result.stderr
        assert "Traceback" not in result.stderr
        assert "FATAL" not in result.stderr


@pytest.mark.parametrize("script", ["evaler.py", "download.py"])
def test_the_other_commands_refuse_unknown_flags_in_one_line(script):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, script), "--bogus_flag", "3"],
        capture_output=True, text=True, check=False,
        env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        "error: Unknown command line flag 'bogus_flag'"
