"""The README's own-data commands on a dataset built like a user's: does the
semi-supervised run beat its supervised baseline?

    python benchmarks/own_data.py [--seeds 1 2 3] [--steps 4000]
                                  [--mnist ../shared/datasets/mnist]
                                  [--work DIR] [--out FILE]

Writes the real MNIST as PNG folders the way a user's own data arrives:
10 labeled images per class in train/<digit>/ (drawn once, fixed), 20,000
images of the rest of the training set in unlabeled/, and the official
10,000 test images in test/<digit>/. Converts them with
`download.py --from_folder`, then for each seed trains
`trainer.py --dataset NAME --model improved_gan` (the paper's recipe for the
shape) and the same with `--d_loss supervised` for `--steps` steps, and
reports each final test accuracy and the medians.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402
from ssgan_tf.data import sources  # noqa: E402

PER_CLASS, UNLABELED = 10, 20000


def png_folders(mnist, root):
    paths = {r.name: os.path.join(mnist, r.name)
             for r in sources.SOURCES["MNIST"].files}
    (train_x, train_y), (test_x, test_y) = sources._parse_mnist(paths)  # pylint: disable=protected-access
    rng = np.random.RandomState(0)
    labeled = np.concatenate([rng.choice(np.flatnonzero(train_y == digit),
                                         PER_CLASS, replace=False)
                              for digit in range(10)])
    rest = np.setdiff1d(np.arange(len(train_y)), labeled)
    unlabeled = rng.choice(rest, UNLABELED, replace=False)
    writes = [(os.path.join(root, "train", str(train_y[i])), f"{i}.png",
               train_x[i]) for i in labeled]
    writes += [(os.path.join(root, "unlabeled"), f"{i}.png", train_x[i])
               for i in unlabeled]
    writes += [(os.path.join(root, "test", str(test_y[i])), f"{i}.png",
                test_x[i]) for i in range(len(test_y))]
    for folder, name, image in writes:
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(image.reshape(28, 28)).save(os.path.join(folder, name))


def final_accuracy(log):
    found = re.findall(r"test accuracy ([0-9.]+) on (\d+) examples", log)
    return float(found[-1][0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--mnist", default=common.SHARED_MNIST)
    parser.add_argument("--work", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="own_data_")
    folder, data = os.path.join(work, "png"), os.path.join(work, "datasets")
    if not os.path.isdir(folder):
        png_folders(args.mnist, folder)
    subprocess.run([sys.executable, os.path.join(common.ROOT, "download.py"),
                    "--from_folder", folder, "--name", "digits",
                    "--dataset_dir", data], check=True)
    runs = {"semi_supervised": [], "supervised": []}
    for seed in args.seeds:
        for arm, extra in (("semi_supervised", []),
                           ("supervised", ["--d_loss", "supervised"])):
            result = subprocess.run(
                [sys.executable, os.path.join(common.ROOT, "trainer.py"),
                 "--dataset", "digits", "--dataset_dir", data, "--train_dir",
                 os.path.join(work, "runs"), "--model", "improved_gan",
                 "--max_training_steps", str(args.steps), "--seed",
                 str(seed), *extra], capture_output=True, text=True,
                check=False)
            if result.returncode:
                raise SystemExit(result.stdout[-2000:] + result.stderr[-3000:])
            accuracy = final_accuracy(result.stdout)
            runs[arm].append([seed, accuracy])
            print(arm, seed, accuracy, flush=True)
    medians = {arm: float(np.median([a for _, a in r]))
               for arm, r in runs.items()}
    output = {"steps": args.steps, "labeled": 10 * PER_CLASS,
              "unlabeled": UNLABELED, "runs": runs, "medians": medians,
              "gain_points": round(100 * (medians["semi_supervised"]
                                          - medians["supervised"]), 2)}
    common.report(output, args.out)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
