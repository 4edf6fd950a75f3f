"""ssgan-tf: semi-supervised GAN (Salimans et al. 2016) in TensorFlow 2 / Keras."""

from setuptools import find_packages, setup

setup(
    name="ssgan-tf",
    version="0.1.0",
    description="Semi-supervised GAN in TensorFlow 2 / Keras, compatible with "
                "SSGAN-Tensorflow's flags, dataset format and checkpoints",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["ssgan_tf", "ssgan_tf.*"]),
    install_requires=[
        "tensorflow>=2.16",
        "tensorboard>=2.16",  # tf.summary and `tensorboard --logdir`; TF 2.21 no longer pulls it in
        "tensorflow-datasets>=4.9",
        "h5py>=3.8",
        "numpy>=1.24",
        "absl-py>=1.4",
        "matplotlib>=3.7",
        "pillow>=9",  # sample grids, the training GIF, --from_folder images
        "scipy>=1.10",  # SVHN's .mat files, read with scipy.io as the original did
    ],
    extras_require={"test": ["pytest>=7"]},
    entry_points={"console_scripts": [
        "ssgan-download=ssgan_tf.cli.download:run",
        "ssgan-train=ssgan_tf.cli.train:run",
        "ssgan-eval=ssgan_tf.cli.evaluate:run",
    ]},
)
