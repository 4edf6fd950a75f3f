"""TensorBoard summaries under the original's tags, and what a run was: its
configuration as hparams (the HParams tab compares runs by their final
test/accuracy) and as text, and both learning rates."""

import json

import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

from ssgan_tf import files

# Settings that say where a run writes and how often it logs, saves and
# tests: they do not change what it trains, so the HParams view leaves them out.
HOUSEKEEPING = frozenset({
    "dataset_dir", "train_dir", "prefix", "run_name", "checkpoint",
    "log_step", "write_summary_step", "ckpt_save_step", "test_sample_step",
    "output_save_step", "dump_result", "debug", "steps_per_call"})

# The original's scalar tags (its `loss/recon_wieght` spelled right).
SCALAR_TAGS = {
    "accuracy": "loss/accuracy", "GAN_loss": "loss/GAN_loss",
    "S_loss": "loss/S_loss", "d_loss": "loss/d_loss",
    "d_loss_real": "loss/d_loss_real", "d_loss_fake": "loss/d_loss_fake",
    "g_loss": "loss/g_loss", "recon_weight": "loss/recon_weight",
    "learning_rate_d": "lr/discriminator", "learning_rate_g": "lr/generator",
}
TEST_ACCURACY_TAG = "test/accuracy"
IMAGES_PER_SUMMARY = 8


class Summaries:
    """Writes to the run folder; a no-op writer on non-chief workers."""

    def __init__(self, run_dir, enabled=True):
        self.writer = tf.summary.create_file_writer(run_dir) if enabled else \
            tf.summary.create_noop_writer()

    def configuration(self, config: dict, run_name: str, step: int):
        """The settings that define the run as hparams (None written as "";
        where it writes, logs and saves left out) and every setting as text."""
        values = {name: "" if value is None else value
                  for name, value in config.items()
                  if name not in HOUSEKEEPING and (value is None or isinstance(
                      value, (bool, int, float, str)))}
        with self.writer.as_default(step=step):
            hparams_api.hparams(values, trial_id=run_name)
            tf.summary.text("config", "```\n" + json.dumps(
                config, indent=2, sort_keys=True) + "\n```")

    def scalars(self, metrics, step):
        with self.writer.as_default(step=step):
            for name, tag in SCALAR_TAGS.items():
                if name in metrics:
                    tf.summary.scalar(tag, float(metrics[name]))

    def test_accuracy(self, accuracy, step):
        with self.writer.as_default(step=step):
            tf.summary.scalar(TEST_ACCURACY_TAG, accuracy)

    def images(self, fake_images, real_images, step):
        """Both batches in [-1, 1]."""
        with self.writer.as_default(step=step):
            tf.summary.image("img/fake", (fake_images + 1.0) / 2.0,
                             max_outputs=IMAGES_PER_SUMMARY)
            tf.summary.image("img/real", (real_images + 1.0) / 2.0,
                             max_outputs=IMAGES_PER_SUMMARY)

    def flush(self):
        self.writer.flush()

    def close(self):
        try:
            self.writer.close()
        except Exception as e:  # pylint: disable=broad-except
            if not files.out_of_space(e):
                raise  # (a full disk is reported by what first hit it)
