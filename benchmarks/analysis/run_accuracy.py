"""A trainer.py run's test accuracy against steps and time, from its events.

    python benchmarks/analysis/run_accuracy.py RUN_DIR [--name NAME] [--out DIR]

For runs too long for benchmarks/accuracy.py to hold in one process (a run
that `--max_seconds` stops and `--checkpoint` resumes): reads the
`test/accuracy` scalars that trainer.py writes every `--test_sample_step`,
with their wall times, from the run folder's TensorBoard event files, and
writes accuracy-NAME.json (step, minutes of training, test accuracy) and
accuracy-NAME.png. The minutes count from the first event each process wrote,
so the time between a stop and its resume is left out.
"""

import argparse
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402
from ssgan_tf import plots  # noqa: E402

TAG = "test/accuracy"


def read_history(run_dir):
    """[(step, training seconds, accuracy)] of `TAG` by step (the newest value
    of a step written twice, as a resumed run may).

    Each process that trained the run (the first, and each resume) wrote its
    own event file: its time counts from that file's first event to each
    event, after the whole span of the files before it.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    points, before = {}, 0.0
    # events.out.tfevents.<seconds since 1970>.<host>...: in the order written
    for path in sorted(glob.glob(os.path.join(run_dir,
                                              "events.out.tfevents.*"))):
        first = last = None
        for event in plots.read_events(path):
            first = event.wall_time if first is None else first
            last = event.wall_time
            for value in event.summary.value:
                if value.tag == TAG:
                    points[event.step] = (before + event.wall_time - first,
                                          float(tf.make_ndarray(value.tensor)))
        if first is not None:
            before += last - first
    return [(step, seconds, accuracy)
            for step, (seconds, accuracy) in sorted(points.items())]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--name", default="run")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks",
                                                      "results"))
    args = parser.parse_args()
    history = read_history(args.run_dir) if os.path.isdir(args.run_dir) \
        else []
    if not history:
        print(f"error: {args.run_dir}: no {TAG} in its event files (not a "
              f"run folder, or no test measured yet)", file=sys.stderr)
        sys.exit(2)
    config_path = os.path.join(args.run_dir, "config.json")
    config = {}
    if os.path.isfile(config_path):
        with open(config_path) as f:
            config = json.load(f).get("config", {})
    output = {"run_dir": os.path.abspath(args.run_dir), "config": config,
              "history": [{"step": step, "minutes": round(seconds / 60, 2),
                           "test_accuracy": accuracy}
                          for step, seconds, accuracy in history],
              **common.machine(measured_here=False)}
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
