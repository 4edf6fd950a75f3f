"""ssgan-tf: a TensorFlow 2 / Keras semi-supervised GAN (Salimans et al. 2016).

A reimplementation of SSGAN-Tensorflow (Shao-Hua Sun) that keeps its flags,
dataset format and checkpoint names.
"""

import os

# oneDNN kernels are off by default in the TensorFlow 2.21 wheel for this CPU;
# with them the generator's backward pass runs about 5x faster on 2 cores.
# Set before TensorFlow is imported; an explicit setting by the user wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
