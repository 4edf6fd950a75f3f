"""ssgan-tf: a TensorFlow 2 / Keras semi-supervised GAN (Salimans et al. 2016).

A reimplementation of SSGAN-Tensorflow (Shao-Hua Sun) that keeps its flags,
dataset format and checkpoint names. From Python:

    import ssgan_tf
    config = ssgan_tf.Config.from_preset("mnist_100", max_training_steps=2000)
    run_dir = ssgan_tf.train(config)
    model = ssgan_tf.load(run_dir)
    model.predict(images_uint8)          # class probabilities [n, N]
    model.predict(photos, resize=True)   # any sizes, fitted as in training
"""

from ssgan_tf.config import Config
from ssgan_tf.errors import UserError

__version__ = "0.1.0"
__all__ = ["Config", "UserError", "fit_image", "load", "train"]

# train and load import TensorFlow when called, not with the package: the
# command lines set TensorFlow's environment before it is first imported.


def train(config, log=print) -> str:
    """Trains one run of `config` (a Config); returns its run folder."""
    from ssgan_tf import training  # pylint: disable=import-outside-toplevel
    return training.run(config, log=log)["run_dir"]


def load(path: str, log=print):
    """A trained run (a run folder or a `model-<step>` prefix) with
    `.predict`, `.sample`, `.evaluate`, `.export` and `.class_names`."""
    from ssgan_tf import serving  # pylint: disable=import-outside-toplevel
    return serving.load(path, log=log)


def fit_image(image, shape):
    """`image` (a uint8 array [h, w], [h, w, 1] or [h, w, 3], or a PIL image)
    as uint8 `shape` (h, w, c): scaled to cover h x w with its aspect kept,
    its centre cut out, grey or RGB as c says. How `--from_folder
    --image_size`, `--predict --resize` and `predict(..., resize=True)` fit
    images; do the same before calling an exported SavedModel."""
    from ssgan_tf.data import images  # pylint: disable=import-outside-toplevel
    return images.fit_array(image, tuple(shape))
