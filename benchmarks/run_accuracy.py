"""A trainer.py run's test accuracy against steps and time, from its events.

    python benchmarks/run_accuracy.py RUN_DIR [--name NAME] [--out DIR]

For runs too long for benchmarks/accuracy.py to hold in one process (a run
that `--max_seconds` stops and `--checkpoint` resumes): reads the
`test/accuracy` scalars that trainer.py writes every `--test_sample_step`,
with their wall times, from the run folder's TensorBoard event files, and
writes accuracy-NAME.json (steps, minutes since the run's first event, test
accuracy) and accuracy-NAME.png. Time spent stopped between a stop and its
resume is left out: a gap of more than `--max_gap_minutes` between two events
counts as zero.
"""

import argparse
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402

TAG = "test/accuracy"


def read_history(run_dir):
    """(the wall time of the run's first event, [(step, wall_time, accuracy)]
    of `TAG` by step: the newest value of a step written twice, as a resumed
    run may)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    points, first = {}, None
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            first = event.wall_time if first is None else min(first,
                                                              event.wall_time)
            for value in event.summary.value:
                if value.tag == TAG:
                    points[event.step] = (event.wall_time, float(
                        tf.make_ndarray(value.tensor)))
    return first, [(step, wall, accuracy)
                   for step, (wall, accuracy) in sorted(points.items())]


def training_minutes(first, walls, max_gap_minutes):
    """Minutes from `first` to each of `walls` (in order), leaving out the
    gaps longer than `max_gap_minutes`."""
    minutes, total, previous = [], 0.0, first
    for wall in walls:
        gap = (wall - previous) / 60
        total += gap if gap <= max_gap_minutes else 0.0
        minutes.append(total)
        previous = wall
    return minutes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--name", default="run")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks",
                                                      "results"))
    parser.add_argument("--max_gap_minutes", type=float, default=30.0)
    args = parser.parse_args()
    first, history = read_history(args.run_dir) if os.path.isdir(
        args.run_dir) else (None, [])
    if not history:
        print(f"error: {args.run_dir}: no {TAG} in its event files (not a "
              f"run folder, or no test measured yet)", file=sys.stderr)
        sys.exit(2)
    minutes = training_minutes(first, [wall for _, wall, _ in history],
                               args.max_gap_minutes)
    config_path = os.path.join(args.run_dir, "config.json")
    config = {}
    if os.path.isfile(config_path):
        with open(config_path) as f:
            config = json.load(f).get("config", {})
    output = {"run_dir": os.path.abspath(args.run_dir), "config": config,
              "history": [{"step": step, "minutes": round(m, 2),
                           "test_accuracy": accuracy}
                          for (step, _, accuracy), m in zip(history, minutes)],
              **common.machine()}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"accuracy-{args.name}.json"), "w") as f:
        json.dump(output, f, indent=2)
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot([step for step, _, _ in history],
              [100 * accuracy for _, _, accuracy in history], marker=".")
    axis.set_xlabel("training step")
    axis.set_ylabel("test accuracy (%)")
    low = min(100 * accuracy for _, _, accuracy in history[len(history) // 4:])
    axis.set_ylim(max(0.0, low - 1.0), 100)
    axis.grid(alpha=0.3)
    axis.set_title(f"{config.get('dataset', '')} {args.name}")
    figure.tight_layout()
    figure.savefig(os.path.join(args.out, f"accuracy-{args.name}.png"), dpi=100)
    last = output["history"][-1]
    print(json.dumps({"last": last, "best": max(
        output["history"], key=lambda h: h["test_accuracy"])}))


if __name__ == "__main__":
    main()
