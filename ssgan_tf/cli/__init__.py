"""The command lines: absl flags -> a config -> one library call.

The top-level `download.py`, `trainer.py` and `evaler.py` (and the console
scripts `ssgan-download`, `ssgan-train`, `ssgan-eval`) call `main()` here.
"""

import os
import re
import sys
import tempfile

# Process settings for the command lines only (the library leaves a user's
# process alone), made before TensorFlow is first imported. An explicit
# setting by the user wins.
# oneDNN kernels are off by default in the TensorFlow 2.21 wheel for some
# CPUs; with them the generator's backward pass runs several times faster.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow's C++ start-up chatter is not for users; a user who sets
# TF_CPP_MIN_LOG_LEVEL (0 shows everything) sees what it lets through.
LOG_LEVEL_SET_BY_USER = "TF_CPP_MIN_LOG_LEVEL" in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Lines TensorFlow writes while it starts on a machine without a GPU, before
# its log level applies: none is news to a user, and some read as failures.
START_UP_CHATTER = re.compile("|".join([
    r"All log messages before absl::InitializeLog\(\) is called",
    r"failed call to cuInit",
    r"Could not find cuda drivers",
    r"cpu_feature_guard",
    r"This TensorFlow binary is optimized to use available CPU",
    r"rebuild TensorFlow with the appropriate compiler flags",
    r"oneDNN custom operations are on",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"TF-TRT Warning: Could not find TensorRT",
    r"cuda_(executor|diagnostics|driver)\.cc",
]))


def import_tensorflow_quietly():
    """Imports TensorFlow and finds its devices with stderr caught, then
    passes on every caught line but the start-up chatter. Left alone where
    the user set TF_CPP_MIN_LOG_LEVEL."""
    if LOG_LEVEL_SET_BY_USER or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf  # pylint: disable=import-outside-toplevel
            tf.config.list_physical_devices()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            for line in caught.read().decode(errors="replace").splitlines():
                if not START_UP_CHATTER.search(line):
                    print(line, file=sys.stderr)
