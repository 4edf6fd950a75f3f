"""Training throughput (images per second) of the original networks.

    python benchmarks/train_throughput.py [--steps 60] [--out FILE]
    python benchmarks/train_throughput.py --preset mnist_100 --shapes mnist \
        --batches 100

With --preset, the preset's networks, losses and settings instead, and some
of the 2,000 random examples labeled (the semi-supervised step: a labeled,
an unlabeled and a generated batch per D update); each result also gives
ms per step and the projected time of the preset's whole schedule (on its
dataset's official training set):

    python benchmarks/train_throughput.py --preset cifar10_4000 \
        --shapes cifar --batches 100 [--jit_compile] [--mixed_precision]

MNIST-shaped (28x28x1) and CIFAR-shaped (32x32x3) random data, 10 classes, at
batch 32 and 100, one D update and one G update per step (the defaults), plain
graph mode. Images/s = batch * steps / seconds, after a warm-up call.

With --components it also times, at the largest batch, what bounds a step from
below: the generator's forward pass and its forward+backward pass (the G update
every step must make, everything else left out), and a 2048x2048 float32 matrix
product as the machine's attainable FLOP rate. `generator_update_bound` is the
images/s a step could reach if the generator's update were its only cost.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the CLIs set it
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import common  # noqa: E402
from ssgan_tf import distribute, models  # noqa: E402
from ssgan_tf.config import Config  # noqa: E402
from ssgan_tf.data import pipeline, sources  # noqa: E402
from ssgan_tf.presets import PRESETS  # noqa: E402
from ssgan_tf.training import build as build_lib, step as step_lib  # noqa: E402


def build_step(shape, batch, config):
    """(TrainStep, its input iterator) for `config` on 2,000 random images
    of `shape`, 10 classes (the first `num_labeled` of them labeled)."""
    strategy = distribute.make_strategy(config.strategy)
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (2000,) + shape).astype(np.uint8)
    labels = rng.randint(0, 10, 2000)
    config = config.replace(batch_size=batch)
    # the first examples labeled (at most half of them: the step is the
    # semi-supervised one whatever the preset's label count)
    labeled = np.arange(min(config.num_labeled, 1000)) \
        if config.num_labeled else None
    built = build_lib.build(config, strategy, shape, 10)
    noise_shape = (step_lib.noise_passes(built.objective, config.update_rate),
                   config.n_z)
    iterator = iter(pipeline.distributed_stream(
        strategy, lambda: pipeline.train_stream(
            images, labels, labeled, batch, 0, noise_shape,
            second_unlabeled=config.g_loss == "feature_matching"
            and config.fm_separate_batch), batch))
    trainer = step_lib.TrainStep(config, strategy, built.generator,
                                 built.discriminator, built.g_optimizer,
                                 built.d_optimizer, built.objective, 10,
                                 labeled is not None, built.ema)
    return trainer, iterator


def measure(shape, batch, steps, config):
    trainer, iterator = build_step(shape, batch, config)
    chunk = tf.constant(config.steps_per_call, tf.int32)
    trainer.run(iterator, chunk)  # trace and warm up
    start = time.perf_counter()
    calls = max(1, steps // config.steps_per_call)
    for _ in range(calls):
        metrics = trainer.run(iterator, chunk)
    float(metrics["d_loss"])
    seconds = time.perf_counter() - start
    return batch * calls * config.steps_per_call / seconds


def _best_seconds(function, repeats=5):
    function()  # trace and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def components(shape, batch, config):
    """Timings that bound the training step from below (best of 5 runs)."""
    generator, _ = models.build("original", shape, 10, config.n_z,
                                config.norm_type, config.deconv_type)
    z = tf.random.uniform([batch, config.n_z], -1, 1)
    generator(z[:2])

    @tf.function
    def forward():
        return tf.reduce_sum(generator(z, training=True))

    @tf.function
    def forward_backward():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(generator(z, training=True)))
        return tape.gradient(loss, generator.trainable_variables)

    matrix = tf.random.normal([2048, 2048])
    matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(matrix, matrix)))
    seconds = {
        "generator_forward": _best_seconds(lambda: forward().numpy()),
        "generator_forward_backward": _best_seconds(
            lambda: [g.numpy() for g in forward_backward()]),
        "matmul_2048": _best_seconds(lambda: matmul().numpy())}
    return {"shape": shape, "batch": batch,
            "seconds": {k: round(v, 4) for k, v in seconds.items()},
            "matmul_gflop_per_second": round(2 * 2048 ** 3 / seconds[
                "matmul_2048"] / 1e9, 1),
            "generator_update_bound": round(
                batch / seconds["generator_forward_backward"], 1)}


def full_schedule(config):
    """The preset's whole schedule in steps, on its dataset's official
    training set (its length in epochs, or in steps)."""
    if not config.epochs:
        return config.max_training_steps
    examples = sources.SOURCES[config.dataset].official_sizes[0]
    return config.for_data(examples).max_training_steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batches", default="32,100")
    parser.add_argument("--shapes", default="mnist,cifar")
    parser.add_argument("--jit_compile", action=argparse.BooleanOptionalAction,
                        default=None, help="compile the step with XLA, or "
                        "not (--no-jit_compile); default: as the preset "
                        "(or the defaults) set it")
    parser.add_argument("--mixed_precision", action="store_true")
    parser.add_argument("--deconv_type", default="bilinear",
                        choices=["bilinear", "nn", "transpose"])
    parser.add_argument("--preset", default=None, choices=sorted(PRESETS),
                        help="time this preset's step instead")
    parser.add_argument("--components", action="store_true",
                        help="also time the generator alone and a matmul")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    config = Config(**(PRESETS[args.preset] if args.preset else {}))
    if args.jit_compile is not None:
        config = config.replace(jit_compile=args.jit_compile)
    config = config.replace(
        steps_per_call=20,
        mixed_precision=args.mixed_precision, deconv_type=args.deconv_type)
    if args.mixed_precision:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    shapes = {"mnist": (28, 28, 1), "cifar": (32, 32, 3)}
    results = []
    for name in args.shapes.split(","):
        for batch in (int(b) for b in args.batches.split(",")):
            rate = measure(shapes[name], batch, args.steps, config)
            step_ms = 1000.0 * batch / rate
            schedule = full_schedule(config)
            results.append({"shape": name, "image_shape": shapes[name],
                            "ms_per_step": round(step_ms, 2),
                            "schedule_steps": schedule,
                            "projected_schedule_hours": round(
                                step_ms * schedule / 3.6e6, 2),
                            "batch": batch, "images_per_second": round(rate, 1)})
            print(json.dumps(results[-1]), flush=True)
    parts = []
    if args.components:
        largest = max(int(b) for b in args.batches.split(","))
        for name in args.shapes.split(","):
            parts.append(components(shapes[name], largest, config))
            print(json.dumps(parts[-1]), flush=True)
    devices = [d.device_type for d in tf.config.list_logical_devices()]
    output = {"results": results, "components": parts,
              "tensorflow": tf.__version__,
              "jit_compile": config.jit_compile,
              "mixed_precision": args.mixed_precision,
              "deconv_type": args.deconv_type,
              "preset": args.preset,
              "devices": devices}
    common.report(output, args.out)


if __name__ == "__main__":
    main()
