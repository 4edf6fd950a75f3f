"""Which test images few-label runs get wrong, and which labels they saw.

    python benchmarks/label_errors.py RUN_DIR [RUN_DIR ...] [--class_id 7]
                                      [--dataset_dir DIR] [--name NAME]
                                      [--out DIR]

For each run folder (a `--num_labeled` run, e.g. the seeds of
benchmarks/accuracy.py): restores its latest checkpoint's classifier (its
weight average if it kept one), classifies the test split and the training
images of class `--class_id`, and reports the test accuracy, the class's test
errors by predicted class, its training errors (labeled or not), and how many
of the misclassified test images of the class the runs share (all runs, and
each pair). Writes label-errors-NAME.json and label-errors-NAME.png: for each
run, the labeled training images of that class it trained with (from its
labeled_ids.txt) above the first test images of that class it gets wrong.
"""

import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402
from ssgan_tf.errors import UserError  # noqa: E402

SHOWN = 20  # misclassified test images drawn per run


def run_errors(run_dir, class_id, dataset_dir):
    """Classifies with the run's latest checkpoint. Returns a dict: its
    `checkpoint`, its labeled training images of `class_id` (`labeled`), the
    test `labels`, `predictions` and `images`, the dataset's `num_class`, and
    its errors on the training images of the class (`train_errors`, of
    `train_size`)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from ssgan_tf import evaluate  # pylint: disable=import-outside-toplevel
    from ssgan_tf.data import format as data_format  # pylint: disable=import-outside-toplevel
    from ssgan_tf import checkpoint as ckpt_lib  # pylint: disable=import-outside-toplevel
    info = ckpt_lib.read_run_info(run_dir)
    if not info:
        raise UserError(f"{run_dir}: no config.json (not a run folder)")
    labeled_path = os.path.join(run_dir, "labeled_ids.txt")
    if not os.path.isfile(labeled_path):
        raise UserError(f"{run_dir}: no labeled_ids.txt (not a --num_labeled "
                        f"run)")
    prefix = tf.train.latest_checkpoint(run_dir)
    if prefix is None:
        raise UserError(f"{run_dir}: no checkpoint")
    config = info["config"]
    dataset_dir = dataset_dir or config["dataset_dir"]
    train = data_format.load_split(dataset_dir, config["dataset"], "train")
    test = data_format.load_split(dataset_dir, config["dataset"], "test")
    if not 0 <= class_id < test.num_class:
        raise UserError(f"--class_id {class_id}: the dataset has classes 0 to "
                        f"{test.num_class - 1}")
    position = {example_id: index for index, example_id in enumerate(train.ids)}
    labeled = []
    for example_id in data_format.read_ids(labeled_path):
        if example_id not in position:
            raise UserError(f"{labeled_path}: id {example_id!r} is not in the "
                            f"training split of {dataset_dir}")
        if train.labels[position[example_id]] == class_id:
            labeled.append(position[example_id])
    classifier = evaluate.load_classifier(prefix, info, test)
    predict_fn = evaluate.make_predict_fn(classifier, test.num_class)
    in_class = np.flatnonzero(np.asarray(train.labels) == class_id)
    train_predictions = evaluate.predict(predict_fn, train.images[in_class])
    return {"checkpoint": prefix, "labeled": train.images[labeled],
            "labels": np.asarray(test.labels),
            "predictions": evaluate.predict(predict_fn, test.images),
            "images": test.images,
            "num_class": int(test.num_class),
            "train_errors": int(np.sum(train_predictions != class_id)),
            "train_size": int(len(in_class))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--class_id", type=int, default=7)
    parser.add_argument("--dataset_dir", default=None,
                        help="where the runs' dataset lives (default: each "
                             "run's own --dataset_dir)")
    parser.add_argument("--name", default="runs")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks",
                                                      "results"))
    args = parser.parse_args()
    runs, wrong_sets = [], []
    try:
        for run_dir in args.run_dirs:
            if not os.path.isdir(run_dir):
                raise UserError(f"{run_dir}: no such folder")
            found = run_errors(run_dir, args.class_id, args.dataset_dir)
            labels, predictions = found["labels"], found["predictions"]
            wrong = np.flatnonzero((labels == args.class_id) &
                                   (predictions != args.class_id))
            wrong_sets.append(set(wrong.tolist()))
            runs.append({
                "run_dir": os.path.abspath(run_dir),
                "checkpoint": found["checkpoint"],
                "test_accuracy": float(np.mean(predictions == labels)),
                "class_errors": int(len(wrong)),
                "class_size": int(np.sum(labels == args.class_id)),
                "class_errors_by_prediction": np.bincount(
                    predictions[wrong], minlength=found["num_class"]
                ).tolist(),
                # the training images of the class (labeled or not) it gets
                # wrong, and how many there are
                "train_class_errors": found["train_errors"],
                "train_class_size": found["train_size"],
                "_labeled": found["labeled"],
                "_wrong": found["images"][wrong[:SHOWN]]})
    except UserError as error:
        sys.exit(f"error: {error}")
    shared = set.intersection(*wrong_sets) if wrong_sets else set()
    output = {"class_id": args.class_id,
              "runs": [{k: v for k, v in run.items() if not k.startswith("_")}
                       for run in runs],
              "class_errors_shared_by_all_runs": len(shared),
              # [i][j]: misclassified test images of the class runs i and j
              # share
              "class_errors_shared": [[len(a & b) for b in wrong_sets]
                                      for a in wrong_sets],
              **common.machine(measured_here=False)}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"label-errors-{args.name}.json"),
              "w") as f:
        json.dump(output, f, indent=2)
    print(json.dumps(output, indent=2))
    _plot(runs, args.class_id,
          os.path.join(args.out, f"label-errors-{args.name}.png"))


def _plot(runs, class_id, path):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    figure, axes = plt.subplots(2 * len(runs), 1,
                                figsize=(10, 1.6 * 2 * len(runs)),
                                squeeze=False)
    for index, run in enumerate(runs):
        name = os.path.basename(run["run_dir"])[:40]
        for row, (images, title) in enumerate((
                (run["_labeled"], f"{name}: its labeled {class_id}s"),
                (run["_wrong"], f"test {class_id}s it gets wrong "
                                f"({run['class_errors']} in all)"))):
            axis = axes[2 * index + row, 0]
            if len(images):
                axis.imshow(np.concatenate([image[..., 0] for image in images],
                                           axis=1), cmap="gray")
            axis.set_title(title, fontsize=9)
            axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=80)


if __name__ == "__main__":
    main()
