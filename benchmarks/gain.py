"""A GAN's test accuracy over its supervised-only baseline, seed by seed, at
one step.

    python benchmarks/gain.py --step 4500 \
        --gan benchmarks/figures/accuracy-original_fm-seed{1,2,3}.json \
        --baseline benchmarks/figures/accuracy-original_fm_baseline.json

Reads the JSON files that benchmarks/accuracy.py (one or more seeds each) and
benchmarks/run_accuracy.py (one run each) write, takes each seed's reading at
`--step` from both sides, and prints the readings, the gain of each seed
(GAN minus baseline, in points) and the median gain. Both sides read at the
same step, so neither is picked as the best of its readings.
"""

import argparse
import json
import statistics
import sys


def readings(path):
    """{seed: {step: test accuracy}} of one JSON file of either script."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as error:
        raise SystemExit(f"error: {path}: cannot read it as JSON ({error})")
    if "runs" in data:  # benchmarks/accuracy.py
        runs = [(run["seed"], run["history"]) for run in data["runs"]]
    elif "history" in data and "config" in data:  # benchmarks/run_accuracy.py
        runs = [(data["config"]["seed"], data["history"])]
    else:
        raise SystemExit(f"error: {path}: neither benchmarks/accuracy.py's "
                         f"nor benchmarks/run_accuracy.py's output")
    return {seed: {point["step"]: point["test_accuracy"] for point in history}
            for seed, history in runs}


def merged(paths):
    """The readings of several files by seed; a seed in two files is an error."""
    result, source = {}, {}
    for path in paths:
        for seed, points in readings(path).items():
            if seed in result:
                raise SystemExit(f"error: {path}: seed {seed} is also in "
                                 f"{source[seed]}")
            result[seed], source[seed] = points, path
    return result, source


def gains(gan, baseline, step, gan_source, baseline_source):
    """[(seed, GAN accuracy, baseline accuracy, gain in points)] for the seeds
    on both sides, by seed."""
    rows = []
    for seed in sorted(set(gan) & set(baseline)):
        for side, source in ((gan, gan_source), (baseline, baseline_source)):
            if step not in side[seed]:
                raise SystemExit(f"error: {source[seed]}: seed {seed} has no "
                                 f"reading at step {step} (it has "
                                 f"{min(side[seed])} to {max(side[seed])})")
        rows.append((seed, gan[seed][step], baseline[seed][step],
                     100.0 * (gan[seed][step] - baseline[seed][step])))
    if not rows:
        raise SystemExit("error: --gan and --baseline share no seed")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan", nargs="+", required=True)
    parser.add_argument("--baseline", nargs="+", required=True)
    parser.add_argument("--step", type=int, required=True)
    args = parser.parse_args(argv)
    gan, gan_source = merged(args.gan)
    baseline, baseline_source = merged(args.baseline)
    rows = gains(gan, baseline, args.step, gan_source, baseline_source)
    print(f"step {args.step}: seed, GAN, baseline, gain")
    for seed, gan_accuracy, baseline_accuracy, gain in rows:
        print(f"seed {seed}: {100 * gan_accuracy:.2f}% "
              f"{100 * baseline_accuracy:.2f}% {gain:+.2f}")
    print(f"median gain {statistics.median(r[3] for r in rows):+.2f} points "
          f"over {len(rows)} seed(s)")
    for seed in sorted(set(gan) ^ set(baseline)):
        print(f"seed {seed}: {'GAN' if seed in gan else 'baseline'} only, "
              f"left out")


if __name__ == "__main__":
    sys.exit(main())
