"""TensorBoard summaries under the original's tags."""

import tensorflow as tf

# The original's scalar tags (its `loss/recon_wieght` spelled right).
SCALAR_TAGS = {
    "accuracy": "loss/accuracy", "GAN_loss": "loss/GAN_loss",
    "S_loss": "loss/S_loss", "d_loss": "loss/d_loss",
    "d_loss_real": "loss/d_loss_real", "d_loss_fake": "loss/d_loss_fake",
    "g_loss": "loss/g_loss", "recon_weight": "loss/recon_weight",
}
TEST_ACCURACY_TAG = "test/accuracy"
IMAGES_PER_SUMMARY = 8


class Summaries:
    """Writes to the run folder; a no-op writer on non-chief workers."""

    def __init__(self, run_dir, enabled=True):
        self.writer = tf.summary.create_file_writer(run_dir) if enabled else \
            tf.summary.create_noop_writer()

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
        self.writer.close()
