"""evaler.py: exact accuracy, per-class results and the confusion matrix of a
checkpoint (or of every checkpoint of a run, or of each new one as it appears)."""

from absl import flags

from ssgan_tf import evaler
from ssgan_tf.cli import common
from ssgan_tf.config import EvalConfig
from ssgan_tf.errors import UserError

FLAGS = flags.FLAGS
flags.DEFINE_string("dataset", "CIFAR10", "Dataset folder name under "
                    "--dataset_dir.")
flags.DEFINE_string("dataset_dir", "datasets", "Folder holding the datasets.")
flags.DEFINE_string("checkpoint", None, "A run folder (its latest checkpoint) "
                    "or a model-<step> prefix.")
flags.DEFINE_string("train_dir", "train_dir", "Where --checkpoint is looked up "
                    "when it is a bare run-folder name.")
flags.DEFINE_enum("split", "test", ["test", "train"], "Which split to classify.")
flags.DEFINE_list("data_id", None, "Classify only these ids.")
flags.DEFINE_bool("all_checkpoints", False, "Evaluate every checkpoint of the "
                  "run; writes eval-all.json (accuracy against step).")
flags.DEFINE_bool("watch", False, "Follow a training run, evaluating each new "
                  "checkpoint until the last step or --watch_timeout.")
flags.DEFINE_float("watch_timeout", 600.0, "Seconds --watch waits for a new "
                   "checkpoint (inf: for ever).")
flags.DEFINE_integer("batch_size", 500, "Evaluation batch size.")
flags.DEFINE_bool("plots", True, "Write confusion.png, curves.png and "
                  "training.gif into the run folder.")


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.batch_size <= 0:
        raise UserError(f"--batch_size must be positive, got {FLAGS.batch_size}")
    if not FLAGS.watch_timeout > 0:  # also NaN; inf waits for ever
        raise UserError(f"--watch_timeout must be a positive number of "
                        f"seconds, got {FLAGS.watch_timeout}")
    evaler.run(EvalConfig(
        dataset=FLAGS.dataset, checkpoint=FLAGS.checkpoint,
        dataset_dir=FLAGS.dataset_dir, train_dir=FLAGS.train_dir,
        split=FLAGS.split,
        data_id=tuple(FLAGS.data_id) if FLAGS.data_id else None,
        all_checkpoints=FLAGS.all_checkpoints, watch=FLAGS.watch,
        watch_timeout=FLAGS.watch_timeout, batch_size=FLAGS.batch_size,
        plots=FLAGS.plots))


def run():
    common.run(main, multi_value_flags=("data_id",))
