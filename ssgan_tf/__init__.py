"""ssgan-tf: a TensorFlow 2 / Keras semi-supervised GAN (Salimans et al. 2016).

A reimplementation of SSGAN-Tensorflow (Shao-Hua Sun) that keeps its flags,
dataset format and checkpoint names.
"""

__version__ = "0.1.0"
