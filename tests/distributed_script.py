"""Run by tests/test_distribute.py in fresh processes (TensorFlow's devices and
TF_CONFIG are fixed at start-up).

    python distributed_script.py compare OUT.json DATA_DIR RUNS VARIANTS
        two logical CPUs: each variant's run under MirroredStrategy over both
        and under one device; writes, per variant, the largest differences
        of the trained weights, the weight average, the batch-norm moving
        statistics and the logged losses. VARIANTS: JSON, {name: Config
        changes}, a "preset" change applying that preset first.
    python distributed_script.py worker DATA_DIR RUNS RUN_NAME [flags...]
        one worker of a multi-worker run (TF_CONFIG set by the caller).
    python distributed_script.py single DATA_DIR RUNS RUN_NAME [flags...]
        the same run in one process.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def config_for(data_dir, runs, **changes):
    from ssgan_tf.config import Config
    base = dict(dataset="tiny", dataset_dir=data_dir, train_dir=runs,
                batch_size=8, n_z=8, max_training_steps=6, steps_per_call=3,
                log_step=3, write_summary_step=3, test_sample_step=6,
                output_save_step=6, ckpt_save_step=3, seed=11,
                learning_rate_g=1e-3, learning_rate_d=1e-3)
    preset = changes.pop("preset", None)
    if preset:  # the preset's networks and losses, at the tiny run's sizes
        base.pop("learning_rate_g"), base.pop("learning_rate_d")
        base.update(changes)
        return Config.from_preset(preset, **base)
    base.update(changes)
    return Config(**base)


def parse_flags(args):
    """--name value pairs -> Config changes (ints, floats and bools parsed)."""
    changes = {}
    for name, value in zip(args[::2], args[1::2]):
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        if value in ("true", "false"):
            value = value == "true"
        changes[name.lstrip("-")] = value
    return changes


def weights(run_dir, key="discriminator"):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(run_dir))
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if k.startswith(("d_optimizer/_trainable_variables",
                             "g_optimizer/_trainable_variables",
                             key + "/", "ema_" + key + "/"))
            or (k.startswith("generator/") and "moving_" in k)}


def g_updates(run_dir):
    """The generator optimizer's update count in the run's last checkpoint."""
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(run_dir))
    keys = [k for k in reader.get_variable_to_shape_map()
            if k.startswith("g_optimizer/") and "iteration" in k]
    assert len(keys) == 1, keys
    return int(reader.get_tensor(keys[0]))


def noise_keys(run):
    """Checkpoint keys that name a noise source (none should)."""
    reader = tf.train.load_checkpoint(run["checkpoint"])
    return [k for k in reader.get_variable_to_shape_map() if "noise" in k]


def losses(run_dir):
    """{(tag, step): value} of the loss scalars in the run's event files
    (not the training accuracy: a count of argmaxes, which the rounding of
    a near tie flips)."""
    from ssgan_tf import plots
    return {(tag, step): value
            for tag, points in plots.read_scalars(run_dir).items()
            if tag.startswith("loss/") and tag != "loss/accuracy"
            for step, value in points}


def relative_difference(a, b):
    """max |a - b| over 1 + the larger tensor's size: relative for a tensor
    of size 1 or more, absolute for one near 0 (whose values may be
    rounding alone)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    size = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    return float(np.max(np.abs(a - b))) / (1.0 + size)


def compare(data_dir, runs, changes):
    """One variant under MirroredStrategy over two CPUs and on one device."""
    from ssgan_tf import training
    results = {}
    for strategy in ("mirrored", "one_device"):
        run = training.run(config_for(data_dir, runs, strategy=strategy,
                                      run_name=strategy, **dict(changes)),
                           lambda *a: None)
        results[strategy] = (run, weights(run["run_dir"]))
    mirrored, single = results["mirrored"][1], results["one_device"][1]
    assert set(mirrored) == set(single)
    diffs = {k: relative_difference(mirrored[k], single[k]) for k in mirrored}
    trained = {k: v for k, v in diffs.items() if "moving_" not in k}
    worst = max(trained, key=trained.get)
    moving = max([v for k, v in diffs.items() if "moving_" in k] or [0.0])
    dtypes = sorted({str(v.dtype) for v in single.values()})
    loss_m = losses(results["mirrored"][0]["run_dir"])
    loss_s = losses(results["one_device"][0]["run_dir"])
    assert loss_m and set(loss_m) == set(loss_s)
    info = json.load(open(os.path.join(results["mirrored"][0]["run_dir"],
                                       "config.json")))
    return {"max_rel_diff": trained[worst], "worst": worst,
            "loss_max_rel_diff": max(
                relative_difference(np.float64(loss_m[k]), np.float64(loss_s[k]))
                for k in loss_m),
            "moving_stats_max_rel_diff": moving, "dtypes": dtypes,
            "ema_keys": len([k for k in mirrored if k.startswith("ema_")]),
            "moving_keys": len([k for k in mirrored if "moving_" in k]),
            "replicas": info["strategy"]["replicas"],
            "g_updates": [g_updates(results[name][0]["run_dir"])
                          for name in ("mirrored", "one_device")],
            "per_replica_batch": info["strategy"]["per_replica_batch"],
            "noise_keys": noise_keys(results["mirrored"][0])}


def main():
    from ssgan_tf import training
    mode = sys.argv[1]
    # Every comparison runs in float64: the same sums taken in another
    # order then differ by ~1e-16, and anything the algorithm does
    # differently stays ~1e-3 and more, on every CPU.
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    quiet = lambda *a: None  # noqa: E731
    if mode == "compare":
        out, data_dir, runs, variants = sys.argv[2:6]
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        outcome = {name: compare(data_dir, os.path.join(runs, name), changes)
                   for name, changes in json.loads(variants).items()}
        with open(out, "w") as f:
            json.dump(outcome, f)
    else:
        data_dir, runs, run_name = sys.argv[2:5]
        changes = parse_flags(sys.argv[5:])
        strategy = "multi_worker" if mode == "worker" else "auto"
        run = training.run(config_for(data_dir, runs, strategy=strategy,
                                   run_name=run_name, **changes), quiet)
        print(json.dumps({"test_accuracy": run["test_accuracy"],
                          "step": run["step"]}))


if __name__ == "__main__":
    main()
