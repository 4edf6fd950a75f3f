"""Writing and loading MNIST's 70,000 examples: the original's loop against ours.

    python benchmarks/data_bench.py [--mnist ../shared/datasets/mnist] [--out FILE]

The original wrote one HDF5 group per example with h5py's high-level API in a
Python loop and read the file back one id at a time. We write the same
group-per-id format through h5py's low-level API with the compact layout, and
load for training from the contiguous arrays kept beside the file.
Prints a JSON object with the seconds each took.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402
from ssgan_tf.data import format as data_format, sources  # noqa: E402


def mnist_arrays(folder):
    if folder and os.path.isdir(folder):
        paths = {r.name: os.path.join(folder, r.name)
                 for r in sources.SOURCES["MNIST"].files}
        (train_x, train_y), (test_x, test_y) = sources._parse_mnist(paths)
        return np.concatenate([train_x, test_x]), np.concatenate([train_y, test_y]), "real MNIST"
    rng = np.random.RandomState(0)
    return (rng.randint(0, 256, (70000, 28, 28, 1)).astype(np.uint8),
            rng.randint(0, 10, 70000), "random MNIST-shaped data")


def original_write(path, ids, images, labels):
    with h5py.File(path, "w") as f:
        for i, example_id in enumerate(ids):
            group = f.create_group(example_id)
            one_hot = np.zeros(10)
            one_hot[labels[i]] = 1
            group["image"] = images[i]
            group["label"] = one_hot


def original_read(path, ids):
    with h5py.File(path, "r") as f:
        return [(f[i]["image"][()], f[i]["label"][()]) for i in ids]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "datasets", "mnist"))
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()
    images, labels, what = mnist_arrays(args.mnist)
    ids = [str(i) for i in range(len(images))]
    work = tempfile.mkdtemp()
    try:
        timings = {}
        start = time.perf_counter()
        original_write(os.path.join(work, "orig.hy"), ids, images, labels)
        timings["original_write_s"] = time.perf_counter() - start
        start = time.perf_counter()
        original_read(os.path.join(work, "orig.hy"), ids)
        timings["original_read_s"] = time.perf_counter() - start

        start = time.perf_counter()
        data_format.write_dataset(os.path.join(work, "ours"), ids, images, labels,
                                  num_class=10)
        timings["ssgan_tf_write_s"] = time.perf_counter() - start
        start = time.perf_counter()
        dataset = data_format.load_dataset(work, "ours")
        np.asarray(dataset.images).sum()  # touch every byte of the memory map
        timings["ssgan_tf_load_s"] = time.perf_counter() - start
        shutil.rmtree(os.path.join(work, "ours", data_format.CACHE_DIR))
        start = time.perf_counter()
        data_format.load_dataset(work, "ours")
        timings["ssgan_tf_first_load_without_cache_s"] = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {k: round(v, 3) for k, v in timings.items()}
    result.update({
        "examples": len(ids), "data": what,
        "write_speedup": round(timings["original_write_s"] / timings["ssgan_tf_write_s"], 1),
        "load_speedup": round(timings["original_read_s"] / timings["ssgan_tf_load_s"], 1),
        **common.machine(),
    })
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
