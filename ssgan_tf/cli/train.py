"""trainer.py: every flag of the original trainer (same defaults, except those
listed in the README), plus the semi-supervised and scale-out flags."""

from absl import flags

from ssgan_tf import config as config_lib
from ssgan_tf.cli import common

FLAGS = flags.FLAGS
config_lib.define_flags(flags)


def main(argv):
    # pylint: disable=import-outside-toplevel
    from ssgan_tf import train
    from ssgan_tf.errors import UserError
    from ssgan_tf.train import checkpoint as ckpt_lib
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    saved = None
    if FLAGS.checkpoint:  # a resume continues with the run's own settings
        run_dir, values = ckpt_lib.saved_config(FLAGS.checkpoint)
        if values is None:
            print(f"{run_dir} has no {ckpt_lib.CONFIG_FILE}: resuming with the "
                  f"settings of the flags alone")
        else:
            source = f"{run_dir}/{ckpt_lib.CONFIG_FILE}"
            saved = config_lib.saved_settings(values, source)
            given = [f"--{name}" for name in config_lib.field_names()
                     if FLAGS[name].present and name != "checkpoint"]
            print(f"resuming with the settings of {source}" +
                  (f"; given now: {' '.join(given)}" if given else ""))
    train.run(config_lib.from_flags(FLAGS, saved=saved))


def run():
    common.run(main, bool_flags=("dump_result", "debug"))
