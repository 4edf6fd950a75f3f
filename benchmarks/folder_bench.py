"""Converting a folder of 70,000 small PNGs (MNIST's images, as a user's
own dataset would arrive) with `download.py --from_folder`.

    python benchmarks/folder_bench.py [--mnist ../shared/datasets/mnist]
                                      [--count 70000] [--out FILE]

Writes MNIST's images as PNG files into DIR/<digit>/ (the training images)
and DIR/unlabeled/ (the test images, as if unlabeled), then times the
conversion into data.hy + id.txt. Prints a JSON object.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402
from benchmarks.data_bench import mnist_arrays  # noqa: E402
from ssgan_tf.data import folder as folder_lib  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=common.SHARED_MNIST)
    parser.add_argument("--count", type=int, default=70000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    images, labels, source = mnist_arrays(args.mnist)
    images, labels = images[:args.count], labels[:args.count]
    work = tempfile.mkdtemp(prefix="folder-bench-")
    try:
        tree = os.path.join(work, "images")
        started = time.perf_counter()
        for index, (image, label) in enumerate(zip(images, labels)):
            sub = str(label) if index < 60000 else "unlabeled"
            os.makedirs(os.path.join(tree, sub), exist_ok=True)
            Image.fromarray(image[..., 0]).save(
                os.path.join(tree, sub, f"{index:05d}.png"))
        written = time.perf_counter() - started
        started = time.perf_counter()
        folder_lib.convert_folder(tree, "converted",
                                  os.path.join(work, "datasets"),
                                  log=lambda *a: None)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    common.report({"images": len(images), "source": source,
                   "png_write_seconds": round(written, 1),
                   "convert_seconds": round(seconds, 1),
                   "images_per_second": round(len(images) / seconds),
                   **common.machine()}, args.out)


if __name__ == "__main__":
    main()
