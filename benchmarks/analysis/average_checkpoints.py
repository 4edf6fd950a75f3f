"""Test accuracy of a run's classifier averaged over several of its checkpoints.

    python benchmarks/analysis/average_checkpoints.py RUN_DIR --from_step 102000
                                             [--to_step N] [--weights ema|raw]
                                             [--dataset_dir DIR] [--name NAME]
                                             [--out DIR]

Asks whether a longer weight average than the run's own would classify
better: the paper's code averages with a decay of 0.9999 (a window of about
10,000 steps), --preset mnist_100 with 0.999. Takes every checkpoint of the
run from `--from_step` to `--to_step` (its weight average by default, its raw
weights with `--weights raw`), averages each classifier variable over them with
equal weights, and classifies the test split with the average and with the
last checkpoint alone. Prints and writes average-checkpoints-NAME.json.
"""

import argparse
import glob
import json
import os
import re
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402


def average(weight_lists):
    """The element-wise mean of several models' weights: a list of arrays, one
    per variable, from a list (one per model) of such lists."""
    if not weight_lists:
        raise ValueError("nothing to average")
    return [np.mean(np.stack(arrays), axis=0) for arrays in zip(*weight_lists)]


def checkpoint_steps(run_dir, from_step, to_step=None):
    """The steps of the run's `model-<step>` checkpoints in the range,
    ascending."""
    steps = []
    for index in glob.glob(os.path.join(run_dir, "model-*.index")):
        match = re.fullmatch(r"model-(\d+)\.index", os.path.basename(index))
        if match:
            step = int(match.group(1))
            if step >= from_step and (to_step is None or step <= to_step):
                steps.append(step)
    return sorted(steps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--from_step", type=int, required=True)
    parser.add_argument("--to_step", type=int, default=None)
    parser.add_argument("--weights", default="ema", choices=["ema", "raw"],
                        help="the checkpoints' weight average (if the run "
                             "kept one) or their raw weights")
    parser.add_argument("--dataset_dir", default=None,
                        help="default: the run's own --dataset_dir")
    parser.add_argument("--name", default=None)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks",
                                                      "figures"))
    args = parser.parse_args(argv)
    if not os.path.isdir(args.run_dir):
        raise SystemExit(f"error: {args.run_dir}: no such folder")

    from ssgan_tf import evaluate  # pylint: disable=import-outside-toplevel
    from ssgan_tf.data import format as data_format  # pylint: disable=import-outside-toplevel
    from ssgan_tf.errors import UserError  # pylint: disable=import-outside-toplevel
    from ssgan_tf import checkpoint as ckpt_lib  # pylint: disable=import-outside-toplevel
    try:
        info = ckpt_lib.read_run_info(args.run_dir)
        if not info:
            raise UserError(f"{args.run_dir}: no config.json; not a run "
                            f"folder of trainer.py")
        steps = checkpoint_steps(args.run_dir, args.from_step, args.to_step)
        if not steps:
            end = "the end" if args.to_step is None else f"step {args.to_step}"
            raise UserError(f"{args.run_dir}: no checkpoint from step "
                            f"{args.from_step} to {end}")
        config = info["config"]
        if args.weights == "raw":  # restore the trained weights themselves
            info = dict(info, config=dict(config, ema_decay=0))
        dataset_dir = args.dataset_dir or config["dataset_dir"]
        dataset = data_format.load_dataset(dataset_dir, config["dataset"])
        test = data_format.load_split(dataset_dir, config["dataset"], "test")
        classifiers = [evaluate.load_classifier(
            os.path.join(args.run_dir, f"model-{step}"), info, dataset)
            for step in steps]
    except UserError as error:
        raise SystemExit(f"error: {error}") from None

    def accuracy(classifier):
        predictions = evaluate.predict(
            evaluate.make_predict_fn(classifier, dataset.num_class),
            test.images)
        return float(np.mean(predictions == test.labels))

    last = accuracy(classifiers[-1])
    averaged = classifiers[0]
    averaged.set_weights(average([c.get_weights() for c in classifiers]))
    result = {"run_dir": os.path.abspath(args.run_dir), "steps": steps,
              "weights": args.weights, "test_examples": int(len(test.labels)),
              "average_accuracy": accuracy(averaged), "last_accuracy": last,
              **common.machine(measured_here=False)}
    name = args.name or os.path.basename(os.path.normpath(args.run_dir))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"average-checkpoints-{name}.json"),
              "w") as f:
        json.dump(result, f, indent=2)
    print(f"{len(steps)} checkpoints, steps {steps[0]} to {steps[-1]} "
          f"({args.weights}): average "
          f"{100 * result['average_accuracy']:.2f}%, last alone "
          f"{100 * last:.2f}%")
    return result


if __name__ == "__main__":
    main()
