"""The GPU check: what the trainer does on a GPU, in one command.

    python benchmarks/gpu_check.py [--out FILE]      # or: make gpu-check
    python benchmarks/gpu_check.py --tiny            # a CPU: the same, small

Measures, and writes as one JSON plus a printed table:
  - the device (name, memory, compute capability; the CUDA and cuDNN
    TensorFlow was built with; the driver as nvidia-smi reports it) and the
    TensorFlow and Keras versions;
  - for mnist_100, svhn_1000 and cifar10_4000 on random data of each
    preset's shape: the step's compile seconds and its steady ms per step
    and images/s, float32 and --mixed_precision, each with and without
    --jit_compile, and the projected time of the preset's paper schedule;
    the peak GPU memory of each;
  - that the step runs on the GPU: it is run once more with soft device
    placement off inside tf.device("/GPU:0"), where an op with no GPU kernel
    is an error instead of a silent copy to the CPU;
  - that MirroredStrategy over the visible GPUs gives the default
    strategy's weights after a few steps;
  - the user's path on the GPU: a small dataset in the upstream CIFAR-10
    binary format, trainer.py --preset cifar10_4000 for 1,000 steps,
    evaler.py, --export, and the SavedModel loaded in a fresh process, with
    the wall time of each;
  - the largest cifar10_4000 batch that fits (doubling from 100).
On a machine without a GPU, --tiny runs every part with few steps and
narrow networks, the mixed-precision XLA step on mnist_100 only (the
placement and memory parts say they were skipped).
"""

import argparse
import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import common, train_throughput  # noqa: E402
from ssgan_tf.config import Config  # noqa: E402
from ssgan_tf.data import sources  # noqa: E402

PRESETS = {"mnist_100": (28, 28, 1), "svhn_1000": (32, 32, 3),
           "cifar10_4000": (32, 32, 3)}
FORMS = [("float32", False), ("float32", True), ("mixed", False),
         ("mixed", True)]


def forms(preset, tiny):
    """Every form on a GPU; with --tiny, each preset in float32 and the
    mixed-precision XLA step once, on the smallest network: a short CPU
    rehearsal (the 32x32 XLA steps run the same code)."""
    if not tiny:
        return FORMS
    return FORMS[:1] + (FORMS[-1:] if preset == "mnist_100" else [])


def gpus():
    return tf.config.list_physical_devices("GPU")


def device_info():
    build = tf.sysconfig.get_build_info()
    info = {"tensorflow": tf.__version__, "keras": tf.keras.__version__,
            "cuda_build": build.get("cuda_version"),
            "cudnn_build": build.get("cudnn_version"), "gpus": [],
            "cpu": common.cpu_model()}
    for device in gpus():
        details = tf.config.experimental.get_device_details(device)
        info["gpus"].append({"name": details.get("device_name"),
                             "compute_capability":
                             details.get("compute_capability")})
    try:
        info["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader"], capture_output=True, text=True,
            timeout=30, check=True).stdout.strip().splitlines()
    except (OSError, subprocess.SubprocessError):
        info["nvidia_smi"] = None
    return info


def config_for(preset, precision, jit, tiny, batch=100):
    # one GPU's step; MirroredStrategy is checked once (mirrored_equals_default)
    changes = dict(jit_compile=jit, mixed_precision=precision == "mixed",
                   steps_per_call=2 if tiny else 20, strategy="one_device")
    if tiny:
        changes.update(d_width=8)
    return Config.from_preset(preset, **changes), (4 if tiny else batch)


def memory_peak():
    if not gpus():
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"]


def time_step(preset, precision, jit, tiny, batch=None, calls=None):
    """Compile seconds, steady ms per step and images/s of one form
    (`calls` chunks of steps timed; default: about 400 steps)."""
    config, default_batch = config_for(preset, precision, jit, tiny)
    batch = batch or default_batch
    if gpus():
        tf.config.experimental.reset_memory_stats("GPU:0")
    if precision == "mixed":
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        trainer, iterator = train_throughput.build_step(
            PRESETS[preset], batch, config)
        chunk = tf.constant(config.steps_per_call, tf.int32)
        start = time.perf_counter()
        float(trainer.run(iterator, chunk)["d_loss"])
        compile_seconds = time.perf_counter() - start
        calls = calls or (2 if tiny else max(1, 400 // config.steps_per_call))
        start = time.perf_counter()
        for _ in range(calls):
            metrics = trainer.run(iterator, chunk)
        float(metrics["d_loss"])
        seconds = time.perf_counter() - start
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    steps = calls * config.steps_per_call
    step_ms = 1000.0 * seconds / steps
    schedule = train_throughput.full_schedule(Config.from_preset(preset))
    return {"preset": preset, "precision": precision, "jit_compile": jit,
            "batch": batch, "compile_seconds": round(compile_seconds, 1),
            "ms_per_step": round(step_ms, 2),
            "images_per_second": round(batch / step_ms * 1000.0, 1),
            "schedule_steps": schedule,
            "projected_schedule_hours": round(step_ms * schedule / 3.6e6, 2),
            "peak_memory_bytes": memory_peak(), "trainer": trainer,
            "iterator": iterator}


def placement(timed):
    """Runs one replica step with soft placement off on the GPU: an op the
    GPU cannot run raises instead of running on the CPU."""
    if not gpus():
        return {"checked": False, "why": "no GPU"}
    trainer = timed["trainer"]
    batch = next(timed["iterator"])
    tf.config.set_soft_device_placement(False)
    try:
        with tf.device("/GPU:0"):
            step = tf.constant(0, tf.int64)
            tf.function(trainer._replica_step)(  # pylint: disable=protected-access
                batch, step, step)
        return {"checked": True, "all_on_gpu": True}
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError,
            ValueError) as e:
        return {"checked": True, "all_on_gpu": False,
                "error": str(e).splitlines()[0][:300]}
    finally:
        tf.config.set_soft_device_placement(True)


def mirrored_equals_default(tiny):
    """cifar10_4000's weights after 3 steps, under MirroredStrategy over the
    visible GPUs (or the CPU) and under the default strategy."""
    weights = {}
    for name in ("default", "mirrored"):
        config, batch = config_for("cifar10_4000", "float32", False, tiny)
        config = config.replace(steps_per_call=3, strategy="mirrored"
                                if name == "mirrored" else "one_device")
        tf.keras.utils.set_random_seed(7)
        trainer, iterator = train_throughput.build_step(
            PRESETS["cifar10_4000"], batch, config)
        trainer.run(iterator, tf.constant(3, tf.int32))
        weights[name] = [np.asarray(v.numpy())
                         for v in trainer.discriminator.trainable_variables]
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(
        weights["default"], weights["mirrored"]))
    return {"replicas": max(1, len(gpus())),
            "max_abs_weight_difference": difference,
            "equal_to_1e-4": difference <= 1e-4}


def cifar10_binary(count, seed=0):
    """cifar-10-binary.tar.gz bytes: `count` records in each of the five
    data batches and in the test batch, <label><1024 R><1024 G><1024 B>."""
    rng = np.random.RandomState(seed)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + \
                ["test_batch.bin"]:
            records = rng.randint(0, 256, (count, 3073)).astype(np.uint8)
            records[:, 0] = np.arange(count) % 10
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = records.nbytes
            tar.addfile(info, io.BytesIO(records.tobytes()))
    return buffer.getvalue()


def user_path(work, tiny):
    """download (upstream CIFAR-10 binary format) -> trainer.py -> evaler.py
    -> --export -> the SavedModel in a fresh process, each timed."""
    mirror = os.path.join(work, "mirror")
    os.makedirs(mirror)
    count = 20 if tiny else 200
    data = cifar10_binary(count)
    with open(os.path.join(mirror, "cifar-10-binary.tar.gz"), "wb") as f:
        f.write(data)
    real = sources.SOURCES["CIFAR10"]  # its checksum pinned to this file
    source = dataclasses.replace(
        real, official_sizes=(5 * count, count),
        files=(dataclasses.replace(real.files[0], sha256=hashlib.sha256(
            data).hexdigest()),))
    times = {}
    start = time.perf_counter()
    sources.download("CIFAR10", os.path.join(work, "data"), mirror=mirror,
                     source=source, log=lambda *a: None)
    times["download"] = time.perf_counter() - start
    steps = "4" if tiny else "1000"
    env = dict(os.environ, PYTHONPATH=ROOT)
    commands = {
        "trainer": ["trainer.py", "--preset", "cifar10_4000", "--dataset_dir",
                    os.path.join(work, "data"), "--train_dir",
                    os.path.join(work, "runs"), "--run_name", "gpu",
                    "--num_labeled", "100" if not tiny else "10",
                    "--max_training_steps", steps, "--batch_size",
                    "100" if not tiny else "10", "--ckpt_save_step", steps,
                    "--log_step", steps, "--output_save_step", steps],
        "evaler": ["evaler.py", "--checkpoint",
                   os.path.join(work, "runs", "gpu")],
        "export": ["evaler.py", "--checkpoint",
                   os.path.join(work, "runs", "gpu"), "--export",
                   os.path.join(work, "exported")]}
    for name, argv in commands.items():
        start = time.perf_counter()
        result = subprocess.run([sys.executable, os.path.join(ROOT, argv[0]),
                                 *argv[1:]], capture_output=True, text=True,
                                env=env, check=False)
        times[name] = time.perf_counter() - start
        if result.returncode:
            return {"ok": False, "failed": name,
                    "stderr": result.stderr[-2000:]}
    load = ("import numpy as np, tensorflow as tf; m = tf.saved_model.load("
            f"{os.path.join(work, 'exported')!r}); print(m.signatures["
            "'serving_default'](images=tf.zeros([2, 32, 32, 3], tf.uint8))"
            "['probabilities'].shape)")
    start = time.perf_counter()
    loaded = subprocess.run([sys.executable, "-c", load], capture_output=True,
                            text=True, check=False)
    times["load_saved_model"] = time.perf_counter() - start
    return {"ok": loaded.returncode == 0 and "(2, 10)" in loaded.stdout,
            "steps": int(steps),
            "seconds": {k: round(v, 1) for k, v in times.items()}}


def largest_batch(tiny, probe=None):
    """The largest cifar10_4000 batch (100 doubled) whose step runs, on the
    preset's own networks (with --tiny, the narrow ones). `probe` stands
    in for time_step in tests."""
    probe = probe or time_step
    if not gpus() and probe is time_step:
        return {"checked": False, "why": "no GPU"}
    fits, batch = None, 100
    while batch <= (400 if tiny else 25600):
        try:
            probe("cifar10_4000", "float32", False, tiny, batch, calls=1)
            fits, batch = batch, batch * 2
        except tf.errors.ResourceExhaustedError:
            break
    return {"checked": True, "largest_batch": fits}


def table(output):
    lines = [f"{'preset':<14}{'precision':<10}{'xla':<5}{'compile s':>10}"
             f"{'ms/step':>9}{'img/s':>10}{'schedule h':>11}{'peak MB':>9}"]
    for row in output["steps"]:
        peak = row["peak_memory_bytes"]
        lines.append(
            f"{row['preset']:<14}{row['precision']:<10}"
            f"{'yes' if row['jit_compile'] else 'no':<5}"
            f"{row['compile_seconds']:>10}{row['ms_per_step']:>9}"
            f"{row['images_per_second']:>10}"
            f"{row['projected_schedule_hours']:>11}"
            f"{'-' if peak is None else round(peak / 2**20):>9}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true",
                        help="few steps, narrow networks: for a CPU")
    parser.add_argument("--out", default=os.path.join(
        ROOT, "benchmarks", "results", "gpu_check.json"))
    args = parser.parse_args()
    if not gpus() and not args.tiny:
        parser.error("no GPU visible to TensorFlow: run with --tiny to try "
                     "the script on a CPU")
    started = time.perf_counter()
    output = {"device": device_info(), "tiny": args.tiny, "steps": []}
    for preset in PRESETS:
        for precision, jit in forms(preset, args.tiny):
            timed = time_step(preset, precision, jit, args.tiny)
            if preset == "cifar10_4000" and (precision, jit) == FORMS[0]:
                output["placement"] = placement(timed)
            output["steps"].append({k: v for k, v in timed.items()
                                    if k not in ("trainer", "iterator")})
            print(json.dumps(output["steps"][-1]), flush=True)
    output["mirrored"] = mirrored_equals_default(args.tiny)
    with tempfile.TemporaryDirectory() as work:
        output["user_path"] = user_path(work, args.tiny)
    output["largest_batch"] = largest_batch(args.tiny)
    output["seconds"] = round(time.perf_counter() - started, 1)
    output.update(common.machine())
    print(table(output))
    common.report(output, args.out)


if __name__ == "__main__":
    main()
