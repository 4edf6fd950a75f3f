#!/usr/bin/env python
"""Evaluate a trained checkpoint exactly; see --help."""

from ssgan_tf.cli.evaluate import run

if __name__ == "__main__":
    run()
