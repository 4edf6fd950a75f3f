"""trainer.py: every flag of the original trainer (same defaults, except those
listed in the README), plus the semi-supervised and scale-out flags."""

from absl import flags

from ssgan_tf import checkpoint as ckpt_lib, config as config_lib, training
from ssgan_tf.cli import common
from ssgan_tf.errors import UserError

FLAGS = flags.FLAGS
config_lib.define_flags(flags)


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    saved, source = None, "the run"
    if FLAGS.checkpoint:  # a resume continues with the run's own settings
        saved = ckpt_lib.resume_settings(FLAGS.checkpoint, given=[
            f"--{name}" for name in config_lib.flag_names()
            if FLAGS[name].present and name != "checkpoint"])
        source = ckpt_lib.run_folder_of(FLAGS.checkpoint)
    training.run(config_lib.from_flags(FLAGS, saved=saved, source=source),
                 resume_merged=True)


KEY_FLAGS = ("preset", "dataset", "dataset_dir", "checkpoint", "train_dir",
             "run_name", "num_labeled", "model", "batch_size",
             "max_training_steps", "epochs", "learning_rate_d",
             "learning_rate_g", "seed", "max_seconds", "strategy",
             "mixed_precision")


def run():
    common.run(main, bool_flags=("dump_result", "debug"),
               retired=config_lib.retired_flag, key_flags=KEY_FLAGS)
