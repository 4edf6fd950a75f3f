#!/usr/bin/env python
"""Train a semi-supervised GAN on a data.hy/id.txt dataset; see --help."""

from ssgan_tf.cli.train import run

if __name__ == "__main__":
    run()
