"""How much the second core (and every further one) adds to the training step.

    python benchmarks/cores.py [--preset mnist_100] [--repeats 3] [--steps 600]
                               [--root DIR] [--out FILE] [-- EXTRA ARGS]

Runs benchmarks/train_throughput.py (`--preset P --shapes mnist --batches 100`)
alternately pinned to one core (CPU affinity {first core}, as `taskset -c 0`)
and on every core, `--repeats` times each, and reports each rate, the medians
and their ratio. `--root` times another source tree's train_throughput.py the
same way (an older commit checked out with `git worktree add`), so that two
versions are compared in one sitting on the same machine. Arguments after `--`
go to train_throughput.py as they are (e.g. `-- --no-jit_compile`).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402


def rate(root, preset, steps, extra, cores):
    """images/s of one train_throughput.py run on `cores` (a set of CPUs)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "result.json")
        command = [sys.executable,
                   os.path.join(root, "benchmarks", "train_throughput.py"),
                   "--preset", preset, "--shapes", "mnist", "--batches", "100",
                   "--steps", str(steps), "--out", out] + extra
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL,
                       preexec_fn=lambda: os.sched_setaffinity(0, cores))
        with open(out) as f:
            return json.load(f)["results"][0]["images_per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist_100")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--root", default=ROOT,
                        help="the source tree whose train_throughput.py runs")
    parser.add_argument("--out", default=None)
    parser.add_argument("extra", nargs="*",
                        help="after --: arguments for train_throughput.py")
    args = parser.parse_args()
    every = sorted(os.sched_getaffinity(0))
    if len(every) < 2:
        parser.error("this process may run on one core only")
    rates = {"one_core": [], "all_cores": []}
    for _ in range(args.repeats):
        for name, cores in (("one_core", {every[0]}), ("all_cores", set(every))):
            rates[name].append(rate(args.root, args.preset, args.steps,
                                    args.extra, cores))
            print(name, rates[name][-1], flush=True)
    medians = {name: statistics.median(values)
               for name, values in rates.items()}
    common.report({"preset": args.preset, "steps": args.steps,
                   "root": os.path.abspath(args.root),
                   "train_throughput_args": args.extra,
                   "cores": len(every), "images_per_second": rates,
                   "median_images_per_second": medians,
                   "ratio": round(medians["all_cores"] / medians["one_core"],
                                  3)}, args.out)


if __name__ == "__main__":
    main()
