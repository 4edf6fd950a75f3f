"""trainer.py: every flag of the original trainer (same defaults, except those
listed in the README), plus the semi-supervised and scale-out flags."""

from absl import flags

from ssgan_tf import cli

cli.import_tensorflow_quietly()  # before the library imports TensorFlow
# pylint: disable=wrong-import-position
from ssgan_tf import checkpoint as ckpt_lib, config as config_lib  # noqa: E402
from ssgan_tf import presets, training
from ssgan_tf.cli import common
from ssgan_tf.data import format as data_format
from ssgan_tf.errors import UserError

FLAGS = flags.FLAGS
config_lib.define_flags(flags)


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    saved, source, implied = None, "the run", None
    if FLAGS.checkpoint:  # a resume continues with the run's own settings
        saved = ckpt_lib.resume_settings(FLAGS.checkpoint, given=[
            f"--{name}" for name in config_lib.flag_names()
            if FLAGS[name].present and name != "checkpoint"])
        source = ckpt_lib.run_folder_of(FLAGS.checkpoint)
    elif FLAGS.model == "improved_gan" and not FLAGS.preset:
        implied = _own_data_preset()
    training.run(config_lib.from_flags(FLAGS, saved=saved, source=source,
                                       implied_preset=implied),
                 resume_merged=True)


def _own_data_preset():
    """--model improved_gan without --preset: the paper's recipe for the
    data's shape (presets.for_shape), said in the log."""
    shape = data_format.load_dataset(FLAGS.dataset_dir,
                                     FLAGS.dataset).image_shape
    name = presets.for_shape(shape)
    if name:
        print(f"--model improved_gan on {'x'.join(map(str, shape))} images: "
              f"the paper's recipe (--preset {name}); flags given still win")
    return name


KEY_FLAGS = ("preset", "dataset", "dataset_dir", "checkpoint", "train_dir",
             "run_name", "num_labeled", "labeled_ids", "max_sample", "model",
             "d_loss",
             "batch_size", "max_training_steps", "epochs", "learning_rate_d",
             "learning_rate_g", "lr_decay_fraction", "seed", "max_seconds",
             "ckpt_save_step", "strategy", "sync_batch_norm",
             "mixed_precision", "jit_compile")


def run():
    common.run(main, bool_flags=("dump_result", "debug"),
               retired=config_lib.retired_flag, key_flags=KEY_FLAGS)
