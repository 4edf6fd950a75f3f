"""What the benchmark scripts share: the real MNIST, and writing the result."""

import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MNIST = os.path.join(ROOT, "..", "shared", "datasets", "mnist")


def ensure_mnist(dataset_dir, mirror=SHARED_MNIST):
    """download.py --dataset MNIST, through --mirror when that folder exists."""
    command = [sys.executable, os.path.join(ROOT, "download.py"), "--dataset",
               "MNIST", "--dataset_dir", dataset_dir]
    if mirror and os.path.isdir(mirror):
        command += ["--mirror", mirror]
    subprocess.run(command, check=True)


def cpu_model():
    """The CPU as /proc/cpuinfo names it, with its family and model numbers
    (a virtual machine often shows only the vendor's name): this shared
    machine's CPU differs from day to day, and its speed with it."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or "unknown"
    return (f"{fields.get('model name', 'unknown')} (family "
            f"{fields.get('cpu family', '?')}, model {fields.get('model', '?')})")


def threads():
    """TensorFlow's threads for one op as TF_NUM_INTRAOP_THREADS sets them
    (some of the recorded runs were held to one), else the cores this process
    may run on (fewer than the machine's under `taskset`)."""
    value = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 \
        else len(os.sched_getaffinity(0))


def machine(measured_here=True):
    """The machine and date; with `measured_here`, also the threads this
    process's TensorFlow runs on (not for scripts that read a past run, whose
    thread count this process cannot know)."""
    output = {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "cpu": cpu_model(), "date": time.strftime("%Y-%m-%d")}
    if measured_here:
        output["threads"] = threads()
    return output


def report(output, out_path=None):
    """Prints the result as JSON and writes it to `out_path` if given."""
    output = dict(output, **machine())
    print(json.dumps(output, indent=2))
    if out_path:
        with open(out_path, "w") as f:
            json.dump(output, f, indent=2)


def drawn_labeled_ids(dataset_dir, num_labeled, seed, out_path):
    """Writes the ids of the labels that `--seed seed` draws (what its run's
    labeled_ids.txt holds) and returns the path."""
    # pylint: disable=import-outside-toplevel
    from ssgan_tf.data import format as data_format, splits
    train = data_format.load_split(dataset_dir, "MNIST", "train")
    chosen = splits.choose_labeled(train.labels, num_labeled, train.num_class,
                                   seed)
    with open(out_path, "w") as f:
        f.writelines(f"{train.ids[i]}\n" for i in chosen)
    return out_path


def paper_labeled_ids(dataset_dir, out_path, per_class=10, seed_data=1):
    """Writes the ids of the Improved-GAN paper's own MNIST labels and returns
    the path: its script takes, for each class, the first `per_class` examples
    of `numpy.random.RandomState(seed_data).permutation` over the training
    images (its `--seed_data`, default 1, apart from the training seed). This
    assumes that its training array keeps the original training file's
    order, as download.py's MNIST does."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    from ssgan_tf.data import format as data_format
    train = data_format.load_split(dataset_dir, "MNIST", "train")
    order = np.random.RandomState(seed_data).permutation(len(train))
    ordered_labels = np.asarray(train.labels)[order]
    chosen = []
    for label in range(train.num_class):
        chosen.extend(order[ordered_labels == label][:per_class])
    with open(out_path, "w") as f:
        f.writelines(f"{train.ids[i]}\n" for i in chosen)
    return out_path
