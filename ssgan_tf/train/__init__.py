"""Training: the step, the loop, checkpoints and summaries.

`ssgan_tf.train.run(config)` trains one run and returns its summary.
"""


def run(config, log=print):
    from ssgan_tf.train import loop  # pylint: disable=import-outside-toplevel
    return loop.run(config, log=log)
