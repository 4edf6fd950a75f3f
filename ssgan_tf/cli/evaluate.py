"""evaler.py: exact accuracy, per-class results and the confusion matrix of a
checkpoint (or of every checkpoint of a run, or of each new one as it
appears); or a trained model put to use: classify images, export, sample."""

from absl import flags

from ssgan_tf import cli

cli.import_tensorflow_quietly()  # before the library imports TensorFlow
# pylint: disable=wrong-import-position
from ssgan_tf import evaler  # noqa: E402
from ssgan_tf.cli import common
from ssgan_tf.config import EvalConfig
from ssgan_tf.errors import UserError

FLAGS = flags.FLAGS
flags.DEFINE_string("checkpoint", None, "A run folder (its newest checkpoint) "
                    "or a model-<step> prefix.")
flags.DEFINE_string("dataset", None, "Dataset folder name under --dataset_dir; "
                    "default: the run's own.")
flags.DEFINE_string("dataset_dir", None, "Folder holding the datasets; "
                    "default: the run's own.")
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
flags.DEFINE_string("predictions_file", None, "Also write one CSV row per "
                    "evaluated example: id, label, prediction, each class's "
                    "probability, p_real.")
flags.DEFINE_list("predict", None, "Classify these PNG/JPEG files or folders: "
                  "one line per image, path<TAB>class<TAB>probability.")
flags.DEFINE_integer("top_k", 1, "With --predict: the K most probable classes.")
flags.DEFINE_bool("resize", False, "With --predict: resize images of another "
                  "size to the model's (bilinear) instead of refusing them.")
flags.DEFINE_string("export", None, "Write a SavedModel into this new folder "
                    "(signature serving_default: uint8 images -> "
                    "probabilities, classes, class_names).")
flags.DEFINE_integer("sample", 0, "Draw this many images from the generator "
                     "into --sample_file.")
flags.DEFINE_string("sample_file", None, "Where --sample writes: FILE.png (a "
                    "grid) or FILE.hy (the original's g_img dump).")
flags.DEFINE_integer("seed", None, "With --sample: fixes the drawn images.")
flags.DEFINE_integer("suggest", 0, "Suggest the N unlabeled training images "
                     "whose labels would help most: a CSV to fill in (then "
                     "download.py --add_labels) and a contact sheet PNG.")
flags.DEFINE_string("suggest_file", None, "Where --suggest writes FILE.csv "
                    "(and FILE.png); default: suggest-<step>.csv in the run "
                    "folder.")


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.batch_size <= 0:
        raise UserError(f"--batch_size must be positive, got {FLAGS.batch_size}")
    if not FLAGS.watch_timeout > 0:  # also NaN; inf waits for ever
        raise UserError(f"--watch_timeout must be a positive number of "
                        f"seconds, got {FLAGS.watch_timeout}")
    if FLAGS.top_k <= 0:
        raise UserError(f"--top_k must be positive, got {FLAGS.top_k}")
    if FLAGS["sample"].present and FLAGS.sample <= 0:
        raise UserError(f"--sample must be positive, got {FLAGS.sample}")
    if FLAGS["suggest"].present and FLAGS.suggest <= 0:
        raise UserError(f"--suggest must be positive, got {FLAGS.suggest}")
    if FLAGS.suggest_file and not FLAGS.suggest:
        raise UserError("--suggest_file goes with --suggest N")
    if FLAGS.sample and not FLAGS.sample_file:
        raise UserError("--sample needs --sample_file FILE.png (a grid) or "
                        "FILE.hy")
    evaler.run(EvalConfig(
        checkpoint=FLAGS.checkpoint, dataset=FLAGS.dataset,
        dataset_dir=FLAGS.dataset_dir, train_dir=FLAGS.train_dir,
        split=FLAGS.split,
        data_id=tuple(FLAGS.data_id) if FLAGS.data_id else None,
        all_checkpoints=FLAGS.all_checkpoints, watch=FLAGS.watch,
        watch_timeout=FLAGS.watch_timeout, batch_size=FLAGS.batch_size,
        plots=FLAGS.plots, predictions_file=FLAGS.predictions_file,
        predict=tuple(FLAGS.predict) if FLAGS.predict else None,
        top_k=FLAGS.top_k, resize=FLAGS.resize, export=FLAGS.export,
        sample=FLAGS.sample, sample_file=FLAGS.sample_file, seed=FLAGS.seed,
        suggest=FLAGS.suggest, suggest_file=FLAGS.suggest_file))


KEY_FLAGS = ("checkpoint", "train_dir", "dataset", "dataset_dir", "split",
             "all_checkpoints", "watch", "predict", "resize", "top_k",
             "predictions_file", "export", "sample", "sample_file", "seed",
             "suggest", "suggest_file", "batch_size")


def run():
    common.run(main, multi_value_flags=("data_id", "predict"),
               key_flags=KEY_FLAGS)
