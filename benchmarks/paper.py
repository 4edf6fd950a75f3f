"""Reproduce the paper's SVHN / CIFAR-10 results: download, train the preset
for each seed, evaluate its weight average on the official test set, and
write the table the README shows.

    python benchmarks/paper.py --dataset CIFAR10 --seeds 1 2 3
    python benchmarks/paper.py --dataset SVHN --seeds 1 2 3 [--mirror DIR]

Salimans et al. 2016 report 8.11 +- 1.3% test error on SVHN with 1,000
labels and 18.63 +- 2.32% on CIFAR-10 with 4,000. The full schedules are
658,800 and 600,000 steps: a GPU's work (see benchmarks/README.md for the
projected times). Writes paper-<DATASET>.json and paper-<DATASET>.md into
--out; `--max_training_steps N` shortens every run (a smoke test, marked so).
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402
from ssgan_tf import Config, files, serving, training  # noqa: E402
from ssgan_tf.data import sources  # noqa: E402

PAPER = {"SVHN": ("svhn_1000", 1000, "8.11 ± 1.3"),
         "CIFAR10": ("cifar10_4000", 4000, "18.63 ± 2.32")}


def reproduce(dataset, seeds, dataset_dir, out, max_training_steps=None,
              mirror=None, log=print):
    """Trains and evaluates one run per seed; returns the result record."""
    preset, labels, paper = PAPER[dataset]
    sources.download(dataset, dataset_dir, mirror=mirror, log=log)
    runs = []
    for seed in seeds:
        changes = dict(seed=seed, dataset_dir=dataset_dir,
                       train_dir=os.path.join(out, "runs"),
                       prefix=f"paper_{preset}_seed{seed}")
        if max_training_steps:
            changes["max_training_steps"] = max_training_steps
        config = Config.from_preset(preset, **changes)
        run_dir = training.run(config, log=log)["run_dir"]
        result = serving.load(run_dir, log=log).evaluate("test")
        runs.append({"seed": seed, "run_dir": run_dir, "step": result["step"],
                     "test_error_percent": round(100 * (1 - result["accuracy"]),
                                                 2),
                     "test_examples": result["num_examples"]})
        log(json.dumps(runs[-1]))
    errors = [r["test_error_percent"] for r in runs]
    record = {"dataset": dataset, "preset": preset, "labels": labels,
              "paper_error_percent": paper, "runs": runs,
              "mean_error_percent": round(statistics.mean(errors), 2),
              "std_error_percent": round(statistics.stdev(errors), 2)
              if len(errors) > 1 else None,
              "full_schedule": not max_training_steps,
              **common.machine()}
    os.makedirs(out, exist_ok=True)
    files.write_json(os.path.join(out, f"paper-{dataset}.json"), record,
                     indent=2)
    files.write_text(os.path.join(out, f"paper-{dataset}.md"), table(record))
    return record


def table(record):
    """The README's row for one dataset, in Markdown."""
    spread = f" ± {record['std_error_percent']}" \
        if record["std_error_percent"] is not None else ""
    note = "" if record["full_schedule"] else \
        f" (shortened to {record['runs'][0]['step']} steps: not the paper's " \
        f"schedule)"
    return ("| dataset | labels | test error, ours | paper | seeds | machine |\n"
            "| --- | --- | --- | --- | --- | --- |\n"
            f"| {record['dataset']} | {record['labels']} | "
            f"{record['mean_error_percent']}%{spread}{note} | "
            f"{record['paper_error_percent']}% | {len(record['runs'])} | "
            f"{record['cpu']}, {record['date']} |\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=sorted(PAPER))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--dataset_dir",
                        default=os.path.join(common.ROOT, "datasets"))
    parser.add_argument("--mirror", default=None,
                        help="a folder or URL holding the upstream files")
    parser.add_argument("--max_training_steps", type=int, default=None,
                        help="shorten every run (a smoke test)")
    parser.add_argument("--out", default=os.path.join(common.ROOT,
                                                      "benchmarks", "results"))
    args = parser.parse_args(argv)
    reproduce(args.dataset, args.seeds, args.dataset_dir, args.out,
              args.max_training_steps, args.mirror)


if __name__ == "__main__":
    main()
