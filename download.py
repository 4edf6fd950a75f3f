#!/usr/bin/env python
"""Download MNIST, SVHN, CIFAR-10 or convert your own images; see --help."""

from ssgan_tf.cli.download import run

if __name__ == "__main__":
    run()
