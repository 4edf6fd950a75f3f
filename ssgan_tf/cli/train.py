"""trainer.py: every flag of the original trainer (same defaults, except those
listed in the README), plus the semi-supervised and scale-out flags."""

from absl import flags

from ssgan_tf import config as config_lib
from ssgan_tf.cli import common

FLAGS = flags.FLAGS
config_lib.define_flags(flags)


def main(argv):
    from ssgan_tf import train  # pylint: disable=import-outside-toplevel
    from ssgan_tf.errors import UserError  # pylint: disable=import-outside-toplevel
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    config = config_lib.from_flags(FLAGS)
    train.run(config)


def run():
    common.run(main, bool_flags=("dump_result", "debug"))
