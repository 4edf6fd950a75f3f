"""Seconds to evaluate the 10,000 MNIST test images with evaler's code path.

    python benchmarks/eval_bench.py [--dataset_dir datasets] [--out FILE]

Makes a one-step checkpoint for each network (original and improved_gan), then
times `evaler.run` (checkpoint and dataset load, model build, every test
image classified once, eval-<step>.json written; pictures off). TensorFlow's
import is excluded: it happens before the clock starts.
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import tensorflow as tf  # noqa: E402,F401  (imported before timing)

from benchmarks import common  # noqa: E402
from ssgan_tf import evaler, training  # noqa: E402
from ssgan_tf.config import Config, EvalConfig  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset_dir", default=os.path.join(ROOT, "datasets"))
    parser.add_argument("--mirror", default=common.SHARED_MNIST)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    common.ensure_mnist(args.dataset_dir, args.mirror)
    results = []
    with tempfile.TemporaryDirectory() as work:
        for model, extra in (("original", {}),
                             ("improved_gan", {"d_loss": "improved_gan",
                                               "g_loss": "feature_matching",
                                               "n_z": 100})):
            config = Config(dataset="MNIST", dataset_dir=args.dataset_dir,
                            train_dir=work, model=model, max_training_steps=1,
                            prefix=model, **extra)
            run = training.run(config, log=lambda *a: None)
            seconds = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                result = evaler.run(EvalConfig(
                    dataset="MNIST", dataset_dir=args.dataset_dir,
                    checkpoint=run["run_dir"], plots=False), log=lambda *a: None)
                seconds.append(time.perf_counter() - start)
            results.append({"model": model, "examples": result["num_examples"],
                            "seconds_each_run": [round(s, 2) for s in seconds],
                            "best_seconds": round(min(seconds), 2)})
            print(json.dumps(results[-1]), flush=True)
    common.report({"results": results, "tensorflow": tf.__version__}, args.out)


if __name__ == "__main__":
    main()
