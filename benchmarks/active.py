"""What to label next, simulated on MNIST with the true labels as the oracle:
do the labels the model suggests help more than random ones?

    python benchmarks/active.py [--seeds 1 2 3] [--steps 1500] [--start 50]
                                [--add 50] [--arms suggested random balanced]
                                [--dataset_dir DIR] [--out DIR]

Per seed, every run `--preset mnist_100` for `--steps` steps (its schedule
sized to them) with that seed:
  - round 1 trains on `--start` class-balanced random labels;
  - `suggested`: a fresh run on those labels plus the `--add` images the
    round-1 model suggests (model.suggest, as evaler.py --suggest), labeled
    by the oracle;
  - `random`: the same with `--add` images drawn at random from the rest of
    the training set;
  - `balanced`: `--start + --add` class-balanced random labels from the start.
Writes active-<start>+<add>.json (each run's test accuracy on the official
10,000, the medians, the classes of the suggested labels).
"""

import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402
from ssgan_tf import serving, training  # noqa: E402
from ssgan_tf.config import Config  # noqa: E402


ARMS = ("suggested", "random", "balanced")


def config_for(args, seed, name, **changes):
    every = args.steps
    return Config.from_preset(
        "mnist_100", dataset_dir=args.dataset_dir, seed=seed,
        train_dir=os.path.join(args.out, "runs"), run_name=name,
        max_training_steps=args.steps, test_sample_step=every,
        log_step=every, write_summary_step=every, output_save_step=every,
        ckpt_save_step=every, steps_per_call=50, **changes)


def one_seed(args, seed, quiet):
    tag = f"seed{seed}"
    first = training.run(config_for(args, seed, f"{tag}-round1",
                                    num_labeled=args.start), quiet)
    model = serving.load(first["run_dir"], log=quiet)
    with open(os.path.join(first["run_dir"], "labeled_ids.txt")) as f:
        start_ids = f.read().split()
    suggested = [s["id"] for s in model.suggest(args.add)]
    pool = model.unlabeled_examples()
    drawn = [str(i) for i in np.random.RandomState(seed).choice(
        pool.ids, args.add, replace=False)]
    label_of = dict(zip(pool.ids, pool.labels))
    result = {"seed": seed, "round1": first["test_accuracy"],
              "suggested_classes": np.bincount(
                  [int(label_of[i]) for i in suggested],
                  minlength=pool.num_class).tolist()}
    for arm, added in (("suggested", suggested), ("random", drawn)):
        if arm not in args.arms:
            continue
        path = os.path.join(args.out, f"{tag}-{arm}-labeled_ids.txt")
        with open(path, "w") as f:
            f.write("\n".join(start_ids + added) + "\n")
        result[arm] = training.run(config_for(
            args, seed, f"{tag}-{arm}", labeled_ids=path), quiet)[
                "test_accuracy"]
    if "balanced" in args.arms:
        result["balanced"] = training.run(config_for(
            args, seed, f"{tag}-balanced",
            num_labeled=args.start + args.add), quiet)["test_accuracy"]
    print(json.dumps(result), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--start", type=int, default=50)
    parser.add_argument("--add", type=int, default=50)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS,
                        help="the arms to train after round 1 (the others' "
                             "figures from an earlier run of the same seeds)")
    parser.add_argument("--dataset_dir", default=os.path.join(ROOT, "datasets"))
    parser.add_argument("--mirror", default=common.SHARED_MNIST)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks",
                                                      "results", "active"))
    args = parser.parse_args()
    if args.start % 10 or (args.start + args.add) % 10:
        parser.error("--start and --start + --add must be multiples of 10 "
                     "(class-balanced draws of MNIST's 10 classes)")
    os.makedirs(args.out, exist_ok=True)
    common.ensure_mnist(args.dataset_dir, args.mirror)
    quiet = lambda *a: None  # noqa: E731
    runs = [one_seed(args, seed, quiet) for seed in args.seeds]
    medians = {arm: float(np.median([r[arm] for r in runs]))
               for arm in ("round1",) + tuple(args.arms)}
    output = {"start": args.start, "add": args.add, "steps": args.steps,
              "runs": runs, "medians": medians,
              **common.machine()}
    if "suggested" in medians and "random" in medians:
        output["suggested_minus_random"] = medians["suggested"] - \
            medians["random"]
    common.report(output, os.path.join(
        args.out, f"active-{args.start}+{args.add}.json"))


if __name__ == "__main__":
    main()
