"""The command lines: absl flags -> a config -> one library call.

The top-level `download.py`, `trainer.py` and `evaler.py` (and the console
scripts `ssgan-download`, `ssgan-train`, `ssgan-eval`) call `main()` here.
"""

import os

# Process settings for the command lines only (the library leaves a user's
# process alone), made before TensorFlow is first imported. An explicit
# setting by the user wins.
# oneDNN kernels are off by default in the TensorFlow 2.21 wheel for some
# CPUs; with them the generator's backward pass runs several times faster.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow's C++ start-up chatter is not for users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
