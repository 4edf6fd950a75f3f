"""Training: the step, the loop, checkpoints and summaries.

`ssgan_tf.train.run(config)` trains one run and returns its summary.
"""

from ssgan_tf.train.loop import run

__all__ = ["run"]
