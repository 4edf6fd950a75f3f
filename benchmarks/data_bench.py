"""Writing and loading datasets: MNIST against the original's loop, and a
dataset larger than one would copy into memory.

    python benchmarks/data_bench.py [--mnist ../shared/datasets/mnist] [--out FILE]
    python benchmarks/data_bench.py --large 1000000 [--small 50000]
        [--steps 300] [--work DIR] [--out FILE]

The default case: the original wrote one HDF5 group per example with h5py's
high-level API in a Python loop and read the file back one id at a time. We
write the same group-per-id format through h5py's low-level API with the
compact layout, and load for training from the contiguous arrays kept beside
the file.

`--large N`: synthetic 32x32x3 images as PNG folders (DIR/train/<class>/,
DIR/test/<class>/, so the ids are grouped by class), N and `--small` of
them, each converted by `download.py --from_folder` and trained for `--steps`
steps by `trainer.py --model original`. Records for both: conversion time
and peak RSS, the trainer's images/s and peak RSS, the input pipeline alone
(images/s), and the class mix of the batches (the largest class's share of a
batch, averaged, against random draws' share).
Prints a JSON object.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
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


NUM_CLASS, TEST_PER_CLASS, SIZE = 10, 200, 32
LABELED = 1000
BATCH = 64


def _write_pngs(job):
    """One class's PNGs: a colour of its own plus noise, seeded by class."""
    from PIL import Image  # pylint: disable=import-outside-toplevel
    folder, label, count = job
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(label)
    colour = rng.randint(40, 216, 3)
    for index in range(count):
        noise = rng.randint(-40, 41, (SIZE, SIZE, 3))
        Image.fromarray(np.clip(colour + noise, 0, 255).astype(np.uint8)).save(
            os.path.join(folder, f"{index:07d}.png"), compress_level=1)


def png_tree(root, count):
    """`count` training images (grouped by class) and a small test split."""
    jobs = [(os.path.join(root, split, f"c{label}"), label, n)
            for split, n in (("train", count // NUM_CLASS),
                             ("test", TEST_PER_CLASS))
            for label in range(NUM_CLASS)]
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(_write_pngs, jobs))


def measured(command):
    """(seconds, peak RSS in MiB, stdout) of a command run in a child of a
    fresh interpreter, so the peak is the command's own."""
    probe = ("import resource, subprocess, sys; "
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
             "sys.stdout.write(r.stdout + r.stderr); "
             "print('PEAK_RSS_KIB', resource.getrusage("
             "resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", probe] + command,
                            capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"{command[:3]} failed:\n{result.stdout[-3000:]}"
                           f"{result.stderr[-3000:]}")
    peak = int(re.findall(r"PEAK_RSS_KIB (\d+)", result.stdout)[-1])
    return seconds, peak / 1024, result.stdout


def pipeline_figures(dataset_dir, name, steps):
    """The input pipeline alone (images/s of every stream's rows) and the
    class mix of the unlabeled stream's batches."""
    from ssgan_tf.data import pipeline, splits  # pylint: disable=import-outside-toplevel
    train, _ = splits.train_and_test(dataset_dir, name)
    labeled = splits.labeled_indices(train, LABELED, seed=1)
    stream = pipeline.train_stream(train.images, train.labels, labeled, BATCH,
                                   seed=1, noise_shape=(1, 100),
                                   second_unlabeled=True).prefetch(2)
    iterator = iter(stream)
    next(iterator)
    start = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    per_second = 3 * BATCH * steps / (time.perf_counter() - start)
    order = pipeline.stream_order(1, pipeline.UNLABELED_STREAM, len(train),
                                  BATCH)
    labels = np.asarray(train.labels)

    def share(batches):
        return float(np.mean([np.bincount(labels[b], minlength=NUM_CLASS)
                              .max() / len(b) for b in batches]))
    rng = np.random.RandomState(0)
    return {"pipeline_images_per_second": round(per_second),
            "largest_class_share": round(share(
                [b.numpy() for b in order.take(steps)]), 4),
            "largest_class_share_of_random_draws": round(share(
                [rng.choice(len(train), BATCH, replace=False)
                 for _ in range(steps)]), 4)}


def large_case(args):
    """The --large measurement (see the module's docstring)."""
    work = args.work or tempfile.mkdtemp(prefix="data_bench_large_")
    python = sys.executable
    results = {}
    for count in (args.small, args.large):
        name = f"synthetic{count}"
        folder = os.path.join(work, f"png{count}")
        if not os.path.isdir(folder):
            start = time.perf_counter()
            png_tree(folder, count)
            print(f"{name}: PNG folder written in "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
        data = os.path.join(work, "datasets")
        seconds, peak, _ = measured([
            python, os.path.join(common.ROOT, "download.py"), "--from_folder",
            folder, "--name", name, "--dataset_dir", data])
        result = {"images": count, "convert_seconds": round(seconds, 1),
                  "convert_peak_rss_mib": round(peak)}
        cache = os.path.join(data, name, data_format.CACHE_DIR, "images.npy")
        result["cache_gib"] = round(os.path.getsize(cache) / 2**30, 2)
        print(name, result, flush=True)
        runs = os.path.join(work, "runs")
        shutil.rmtree(runs, ignore_errors=True)
        never = str(10 * args.steps)
        seconds, peak, log = measured([
            python, os.path.join(common.ROOT, "trainer.py"), "--dataset", name,
            "--dataset_dir", data, "--train_dir", runs, "--model", "original",
            "--batch_size", str(BATCH), "--num_labeled", str(LABELED),
            "--max_training_steps", str(args.steps), "--log_step", "25",
            "--test_sample_step", never, "--output_save_step", never,
            "--write_summary_step", never, "--ckpt_save_step", never])
        rates = [float(r) for r in re.findall(r"\((\d+) img/s\)", log)]
        result.update({
            "train_seconds": round(seconds, 1),
            "train_peak_rss_mib": round(peak),
            # the first logged rate includes compilation
            "train_images_per_second": round(float(np.median(rates[1:])))
            if len(rates) > 1 else None,
            "train_rates_logged": rates})
        result.update(pipeline_figures(data, name, args.steps))
        print(name, result, flush=True)
        results[name] = result
    small, large = (results[f"synthetic{n}"] for n in (args.small, args.large))
    output = {"case": "large", "steps": args.steps, "batch": BATCH,
              "results": results,
              "train_speed_large_over_small": round(
                  large["train_images_per_second"]
                  / small["train_images_per_second"], 3),
              "train_peak_rss_large_minus_small_mib":
                  large["train_peak_rss_mib"] - small["train_peak_rss_mib"],
              "convert_peak_rss_large_minus_small_mib":
                  large["convert_peak_rss_mib"] - small["convert_peak_rss_mib"],
              **common.machine()}
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return output


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "datasets", "mnist"))
    parser.add_argument("--large", type=int, default=0,
                        help="the large case with this many images")
    parser.add_argument("--small", type=int, default=50000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--work", default=None,
                        help="keep the PNG folders and datasets here")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()
    if args.large:
        text = json.dumps(large_case(args), indent=2)
        print(text)
        if args.out:
            with open(args.out, "w") as f:
                f.write(text + "\n")
        return
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
