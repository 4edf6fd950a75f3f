"""Training throughput (images per second) of the original networks.

    python benchmarks/train_throughput.py [--steps 60] [--out FILE]

MNIST-shaped (28x28x1) and CIFAR-shaped (32x32x3) random data, 10 classes, at
batch 32 and 100, one D update and one G update per step (the defaults), plain
graph mode. Images/s = batch * steps / seconds, after a warm-up call.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as ssgan_tf sets it
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import common  # noqa: E402
from ssgan_tf import distribute, models  # noqa: E402
from ssgan_tf.config import Config  # noqa: E402
from ssgan_tf.data import pipeline  # noqa: E402
from ssgan_tf.train import loop, step as step_lib  # noqa: E402


def measure(shape, batch, steps, config):
    strategy = distribute.make_strategy(config.strategy)
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (2000,) + shape).astype(np.uint8)
    labels = rng.randint(0, 10, 2000)
    config = config.replace(batch_size=batch)
    with strategy.scope():
        generator, discriminator = models.build(
            "original", shape, 10, config.n_z, config.norm_type,
            config.deconv_type)
        generator(tf.zeros([2, config.n_z]))
        discriminator(tf.zeros((2,) + shape))
        g_opt = loop.build_optimizer(config, config.learning_rate_g, 1)
        d_opt = loop.build_optimizer(config, config.learning_rate_d, 1)
        g_opt.build(generator.trainable_variables)
        d_opt.build(discriminator.trainable_variables)
    noise_shape = (step_lib.noise_passes(config), config.n_z)
    iterator = iter(pipeline.distributed_stream(
        strategy, lambda: pipeline.train_stream(images, labels, None, batch, 0,
                                                noise_shape), batch))
    trainer = step_lib.TrainStep(config, strategy, generator, discriminator,
                                 g_opt, d_opt, 10, False)
    chunk = tf.constant(config.steps_per_call, tf.int32)
    trainer.run(iterator, chunk)  # trace and warm up
    start = time.perf_counter()
    calls = max(1, steps // config.steps_per_call)
    for _ in range(calls):
        metrics = trainer.run(iterator, chunk)
    float(metrics["d_loss"])
    seconds = time.perf_counter() - start
    return batch * calls * config.steps_per_call / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batches", default="32,100")
    parser.add_argument("--shapes", default="mnist,cifar")
    parser.add_argument("--jit_compile", action="store_true")
    parser.add_argument("--mixed_precision", action="store_true")
    parser.add_argument("--g_shares_d_pass", action="store_true")
    parser.add_argument("--deconv_type", default="bilinear",
                        choices=["bilinear", "nn", "transpose"])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    config = Config(steps_per_call=20, jit_compile=args.jit_compile,
                    mixed_precision=args.mixed_precision,
                    g_shares_d_pass=args.g_shares_d_pass,
                    deconv_type=args.deconv_type)
    if args.mixed_precision:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    shapes = {"mnist": (28, 28, 1), "cifar": (32, 32, 3)}
    results = []
    for name in args.shapes.split(","):
        for batch in (int(b) for b in args.batches.split(",")):
            rate = measure(shapes[name], batch, args.steps, config)
            results.append({"shape": name, "image_shape": shapes[name],
                            "batch": batch, "images_per_second": round(rate, 1)})
            print(json.dumps(results[-1]), flush=True)
    devices = [d.device_type for d in tf.config.list_logical_devices()]
    output = {"results": results, "tensorflow": tf.__version__,
              "jit_compile": args.jit_compile,
              "mixed_precision": args.mixed_precision,
              "g_shares_d_pass": args.g_shares_d_pass,
              "deconv_type": args.deconv_type,
              "devices": devices}
    common.report(output, args.out)


if __name__ == "__main__":
    main()
