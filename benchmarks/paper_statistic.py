"""The paper's statistic: test error over several labeled subsets (one a
seed), as mean ± standard deviation, in % and in errors out of the 10,000
test images, with every seed and the worst.

    python benchmarks/paper_statistic.py FILE.json [RUNS.json ...]

prints FILE's table; with RUNS (accuracy.py's own JSON outputs, e.g. from
runs on other cores) it first merges their seeds into FILE. accuracy.py
merges each seed into its statistic file as the seed ends, so a benchmark
stopped part-way keeps what it measured and a later one adds to it.
"""

import argparse
import fcntl
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_IMAGES = 10000
# Besides the schedule's end: the steps the table reads along the way.
STEPS_ALONG = (15000, 30000)


def training_code_commit(root=ROOT):
    """The last commit that changed the training code (ssgan_tf/), with
    "+modified" while it has uncommitted changes; "unknown" outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", root, *args], capture_output=True,
                              text=True, check=False)
    found = git("log", "-1", "--format=%h", "--", "ssgan_tf")
    if found.returncode != 0 or not found.stdout.strip():
        return "unknown"
    dirty = git("status", "--porcelain", "--", "ssgan_tf").stdout.strip()
    return found.stdout.strip() + ("+modified" if dirty else "")


def accuracy_at(run, step):
    """The run's test accuracy measured at `step`, or None if it was not."""
    for point in run["history"]:
        if point["step"] == step:
            return point["test_accuracy"]
    return None


def summarize(accuracies):
    """{seed: accuracy} -> mean ± std of the error (sample std, as over the
    paper's 10 subsets), in % and out of TEST_IMAGES, and the worst seed."""
    seeds = sorted(accuracies, key=int)
    errors = [100.0 * (1.0 - accuracies[s]) for s in seeds]
    worst = max(seeds, key=lambda s: (1.0 - accuracies[s], int(s)))
    std = statistics.stdev(errors) if len(errors) > 1 else None
    return {
        "seeds": len(seeds),
        "mean_error_percent": round(statistics.fmean(errors), 4),
        "std_error_percent": None if std is None else round(std, 4),
        "mean_errors_of_10000": round(statistics.fmean(errors)
                                      * TEST_IMAGES / 100, 1),
        "std_errors_of_10000": None if std is None
        else round(std * TEST_IMAGES / 100, 1),
        "worst_seed": worst, "worst_accuracy": accuracies[worst],
    }


def statistic(record):
    """The record's summaries: at its schedule's end and at STEPS_ALONG."""
    final = {s: r["final_test_accuracy"] for s, r in record["runs"].items()
             if r["final_step"] == record["steps"]}
    out = {"end": summarize(final) if final else None, "along": {}}
    for step in STEPS_ALONG:
        if step < record["steps"]:
            found = {s: accuracy_at(r, step) for s, r in record["runs"].items()}
            found = {s: a for s, a in found.items() if a is not None}
            out["along"][str(step)] = summarize(found) if found else None
    return out


def merge(path, runs, identity, machine):
    """Adds `runs` (accuracy.py's run records) to the statistic file at
    `path`, under a lock so that runs on several cores can share it. A file
    of another commit or other settings is kept beside it
    (NAME-<commit>.json) and a new one started: its seeds measured other
    code."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = None
        if os.path.isfile(path):
            with open(path) as f:
                record = json.load(f)
            if {k: record.get(k) for k in identity} != identity:
                stem, ext = os.path.splitext(path)
                os.replace(path, f"{stem}-{record.get('commit')}{ext}")
                record = None
        if record is None:
            record = dict(identity, runs={})
        for run in runs:
            record["runs"][str(run["seed"])] = dict(run, **machine)
        record["runs"] = dict(sorted(record["runs"].items(),
                                     key=lambda item: int(item[0])))
        record["accuracy"] = {s: r["final_test_accuracy"]
                              for s, r in record["runs"].items()
                              if r["final_step"] == record["steps"]}
        record["statistic"] = statistic(record)
        temporary = path + ".tmp"
        with open(temporary, "w") as f:
            json.dump(record, f, indent=2)
        os.replace(temporary, path)
    return record


def table(record):
    """The statistic as Markdown lines: every seed, then mean ± std."""
    summary = record["statistic"]
    steps = [*summary["along"], "end"]
    heads = [f"step {int(s):,}" for s in summary["along"]] + [
        f"the end, step {record['steps']:,}"]
    lines = ["| seed | " + " | ".join(heads) + " |",
             "| --- |" + " --- |" * len(heads)]
    for seed, run in record["runs"].items():
        cells = [accuracy_at(run, int(s)) for s in summary["along"]]
        cells.append(run["final_test_accuracy"]
                     if run["final_step"] == record["steps"] else None)
        lines.append(f"| {seed} | " + " | ".join(
            "—" if a is None else f"{100 * a:.2f}%" for a in cells) + " |")
    cells = []
    for step in steps:
        found = summary["end"] if step == "end" else summary["along"][step]
        if not found:
            cells.append("—")
            continue
        std = found["std_error_percent"]
        cells.append(
            f"{found['mean_error_percent']:.2f}"
            + ("" if std is None else f" ± {std:.2f}") + "% error ("
            + f"{found['mean_errors_of_10000']:g}"
            + ("" if std is None else f" ± {found['std_errors_of_10000']:g}")
            + f" of 10,000; {found['seeds']} seed"
            + ("s" if found["seeds"] != 1 else "") + "), worst seed "
            + f"{found['worst_seed']}: {100 * found['worst_accuracy']:.2f}%")
    lines.append("| **mean ± std** | " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the statistic's JSON")
    parser.add_argument("runs", nargs="*", help="accuracy.py JSON outputs "
                        "whose seeds to merge into FILE")
    parser.add_argument("--commit", help="the training code's commit RUNS "
                        "count as: where they recorded none, or where "
                        "same_training.py showed theirs trains identically")
    args = parser.parse_args(argv)
    try:
        for source in args.runs:
            with open(source) as f:
                output = json.load(f)
            if args.commit:
                output["commit"] = args.commit
            if not output.get("commit"):
                raise ValueError(f"{source} names no commit: give --commit")
            output.setdefault("length",
                              output["settings"]["max_training_steps"])
            identity = identity_of(output)
            machine = {k: output[k] for k in ("machine", "cpu", "date",
                                              "threads") if k in output}
            merge(args.file, output["runs"], identity, machine)
        with open(args.file) as f:
            record = json.load(f)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(table(record)))
    return 0


def identity_of(output):
    """What makes two runs' seeds one statistic: the same training code,
    variant, settings, labels and schedule length (accuracy.py's output ->
    the statistic file's fields)."""
    return {"commit": output["commit"], "variant": output["variant"],
            "settings": output["settings"], "labels": output["labels"],
            "steps": output["length"]}


if __name__ == "__main__":
    sys.exit(main())
