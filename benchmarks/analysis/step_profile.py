"""Where a training step's time goes: TensorFlow's profiler over a few calls
of the preset's step, op time summed by kind.

    python benchmarks/analysis/step_profile.py [--preset mnist_100] [--steps 100]
        [--out FILE]

The step is benchmarks/train_throughput.py's (random MNIST-shaped data, the
preset's networks, losses, optimizers and weight average), in plain graph mode
(XLA's compiled step would show as one op). First the step's
wall time without the profiler, then the traced op time per kind: matrix
products forward and backward, the optimizers' updates, and every other op
type. The profiler slows ops down, so the shares are what to read, not the
traced milliseconds. Ops of one step run on two executor threads at once, so
the traced time per step exceeds its wall time.
"""

import argparse
import collections
import glob
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the CLIs set it
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from benchmarks import common, train_throughput  # noqa: E402
from ssgan_tf.config import Config  # noqa: E402
from ssgan_tf.presets import PRESETS  # noqa: E402


def kind(op_name):
    """A kind for an op of the traced step: `scope/name:OpType`."""
    op_type = op_name.rsplit(":", 1)[-1]
    lowered = op_name.lower()
    if "adam" in lowered:
        return "optimizer update"
    if "MatMul" in op_type:  # MatMul, oneDNN's _MklNativeFusedMatMul, ...
        return "MatMul backward" if "gradient_tape" in op_name else \
            "MatMul forward"
    return op_type


def op_seconds(logdir):
    """{op name: traced seconds} from the profiler's XSpace file."""
    path = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    space = xplane_pb2.XSpace()
    with open(path[0], "rb") as f:
        space.ParseFromString(f.read())
    seconds = collections.Counter()
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue  # the executor threads that run the step's ops
            for event in line.events:
                name = names.get(event.metadata_id, "")
                if ":" in name and "::" not in name:  # an op
                    seconds[name] += event.duration_ps * 1e-12
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist_100", choices=["mnist_100"])
    parser.add_argument("--steps", type=int, default=100,
                        help="steps traced (and timed without the profiler)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    # Without XLA: a compiled step shows as one op, not by kind.
    config = Config(**PRESETS[args.preset]).replace(steps_per_call=20,
                                                    jit_compile=False)
    trainer, iterator = train_throughput.build_step(
        (28, 28, 1), config.batch_size, config)
    chunk = tf.constant(config.steps_per_call, tf.int32)
    calls = max(1, args.steps // config.steps_per_call)
    steps = calls * config.steps_per_call
    for _ in range(2):  # trace and warm up
        trainer.run(iterator, chunk)
    start = time.perf_counter()
    for _ in range(calls):
        metrics = trainer.run(iterator, chunk)
    float(metrics["d_loss"])
    wall_ms = (time.perf_counter() - start) / steps * 1e3
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(calls):
            metrics = trainer.run(iterator, chunk)
        float(metrics["d_loss"])
        tf.profiler.experimental.stop()
        seconds = op_seconds(logdir)
    by_kind = collections.Counter()
    for name, value in seconds.items():
        by_kind[kind(name)] += value
    total = sum(by_kind.values())
    rows = [{"kind": name, "share": round(value / total, 4),
             "traced_ms_per_step": round(value / steps * 1e3, 2)}
            for name, value in by_kind.most_common(15)]
    for row in rows:
        print(f"{row['kind']:<24} {100 * row['share']:5.1f}%", flush=True)
    common.report({"preset": args.preset,
                   "steps": steps, "wall_ms_per_step": round(wall_ms, 2),
                   "traced_ms_per_step": round(total / steps * 1e3, 2),
                   "kinds": rows, "tensorflow": tf.__version__}, args.out)


if __name__ == "__main__":
    main()
