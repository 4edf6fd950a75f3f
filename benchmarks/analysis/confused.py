"""What a run's labels hold and where its classifier errs: for two classes,
each run's labeled images of both, and the test images of TRUE that the first
run calls PREDICTED (with what the other runs call them).

    python benchmarks/analysis/confused.py RUN_DIR [RUN_DIR ...] --true 5
                                          --predicted 7 [--step N]
                                          [--dataset_dir DIR] [--out FILE]

Asks whether a low seed's errors are a style of digit that its labeled subset
lacks. Reads each run's labeled_ids.txt and its newest checkpoint (or
`--step`), classifies the test split with its weight average, and writes a
PNG: one row of labeled images per run, then the confused test images.
"""

import argparse
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

COLUMNS = 20


def labeled_of(dataset, ids, wanted):
    """The images of `dataset` among `ids` whose label is `wanted`."""
    row = {example_id: k for k, example_id in enumerate(dataset.ids)}
    rows = np.array([row[i] for i in ids if i in row], np.int64)
    return dataset.images[rows][np.asarray(dataset.labels)[rows] == wanted]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--true", type=int, required=True)
    parser.add_argument("--predicted", type=int, required=True)
    parser.add_argument("--step", type=int, default=None,
                        help="default: each run's newest checkpoint")
    parser.add_argument("--dataset_dir", default=None,
                        help="default: the first run's own --dataset_dir")
    parser.add_argument("--out", default="confused.png")
    args = parser.parse_args(argv)
    # pylint: disable=import-outside-toplevel
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from ssgan_tf import checkpoint as ckpt_lib, evaluate
    from ssgan_tf.data import format as data_format
    from ssgan_tf.errors import UserError
    try:
        infos = []
        for run_dir in args.run_dirs:
            info = ckpt_lib.read_run_info(run_dir)
            if not info:
                raise UserError(f"{run_dir}: no config.json; not a run "
                                f"folder of trainer.py")
            infos.append(info)
        config = infos[0]["config"]
        dataset_dir = args.dataset_dir or config["dataset_dir"]
        dataset = data_format.load_dataset(dataset_dir, config["dataset"])
        test = data_format.load_split(dataset_dir, config["dataset"], "test")
        labeled, predictions = [], []
        for run_dir, info in zip(args.run_dirs, infos):
            with open(os.path.join(run_dir, "labeled_ids.txt")) as f:
                ids = f.read().split()
            labeled.append([labeled_of(dataset, ids, c)
                            for c in (args.true, args.predicted)])
            steps = [int(name[len("model-"):-len(".index")])
                     for name in os.listdir(run_dir)
                     if name.startswith("model-") and name.endswith(".index")]
            step = args.step or max(steps, default=None)
            if step not in steps:
                raise UserError(f"{run_dir}: no checkpoint model-{step}")
            prefix = os.path.join(run_dir, f"model-{step}")
            classifier = evaluate.load_classifier(prefix, info, dataset)
            predictions.append(evaluate.predict(evaluate.make_predict_fn(
                classifier, dataset.num_class), test.images))
    except (UserError, OSError, ValueError) as error:
        raise SystemExit(f"error: {error}") from None
    labels = np.asarray(test.labels)
    confused = np.where((labels == args.true) &
                        (predictions[0] == args.predicted))[0]
    for run_dir, predicted in zip(args.run_dirs, predictions):
        print(f"{run_dir}: accuracy {np.mean(predicted == labels):.4f}; the "
              f"{len(confused)} test {args.true}s the first run calls "
              f"{args.predicted}, called: "
              f"{np.bincount(predicted[confused], minlength=10).tolist()}")
    shown = confused[:3 * COLUMNS]
    rows = len(args.run_dirs) + -(-len(shown) // COLUMNS)
    figure, axes = plt.subplots(rows, COLUMNS,
                                figsize=(COLUMNS, 1.1 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for row, (run_dir, (first, second)) in enumerate(zip(args.run_dirs,
                                                         labeled)):
        half = COLUMNS // 2
        for k, image in enumerate(first[:half]):
            axes[row, k].imshow(image.squeeze(), cmap="gray")
        for k, image in enumerate(second[:half]):
            axes[row, half + k].imshow(image.squeeze(), cmap="gray")
        axes[row, 0].set_title(
            f"{os.path.basename(os.path.normpath(run_dir))[:40]}: labeled "
            f"{args.true}s | {args.predicted}s", loc="left", fontsize=8)
    base = len(args.run_dirs)
    for k, index in enumerate(shown):
        axes[base + k // COLUMNS, k % COLUMNS].imshow(
            test.images[index].squeeze(), cmap="gray")
    if len(shown):
        axes[base, 0].set_title(f"test {args.true}s the first run calls "
                                f"{args.predicted}", loc="left", fontsize=8)
    figure.savefig(args.out, dpi=60)
    print(f"wrote {args.out}")
    return len(confused)


if __name__ == "__main__":
    main()
