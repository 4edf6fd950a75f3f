"""Training: the step, the loop, checkpoints and summaries.

`ssgan_tf.training.run(config)` trains one run and returns its summary.
"""

from ssgan_tf.training.loop import run

__all__ = ["run"]
