"""ssgan-tf: semi-supervised GAN (Salimans et al. 2016) in TensorFlow 2 / Keras."""

from setuptools import find_packages, setup

setup(
    name="ssgan-tf",
    version="0.1.0",
    description="Semi-supervised GAN (Salimans et al. 2016) in TensorFlow 2 / "
                "Keras 3, with SSGAN-Tensorflow's flags, data.hy/id.txt "
                "format and model-<step> checkpoint names (its TF1 "
                "checkpoint files cannot be loaded)",
    license="MIT",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["ssgan_tf", "ssgan_tf.*"]),
    install_requires=[
        # tested with TensorFlow 2.21 and Keras 3.15; FusedAdam reads private
        # attributes of Keras' Adam (it falls back to Keras' own update)
        "tensorflow>=2.16,<2.22",
        "keras>=3.0,<3.16",
        "tensorboard>=2.16,<2.22",  # tf.summary and `tensorboard --logdir`; TF 2.21 no longer pulls it in
        "tensorflow-datasets>=4.9",
        "h5py>=3.8",
        "numpy>=1.24",
        "absl-py>=1.4",
        "matplotlib>=3.7",
        "pillow>=9",  # sample grids, the training GIF, --from_folder images
        "scipy>=1.10",  # SVHN's .mat files, read with scipy.io as the original did
    ],
    # pytest-xdist: the suite runs in two processes (most of a test's time is
    # a command-line process starting TensorFlow, which uses one core).
    extras_require={"test": ["pytest>=7", "pytest-xdist>=3"]},
    entry_points={"console_scripts": [
        "ssgan-download=ssgan_tf.cli.download:run",
        "ssgan-train=ssgan_tf.cli.train:run",
        "ssgan-eval=ssgan_tf.cli.evaluate:run",
    ]},
)
