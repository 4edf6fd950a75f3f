"""Run by tests/test_resume.py in a fresh process (TensorFlow's op
determinism is a setting of the whole process).

    python resume_script.py OUT.json DATA_DIR RUNS VARIANTS

For each variant ({name: Config changes}, "preset" applying that preset
first, "stops" listing the ways to stop): 2N steps uninterrupted; the same
run stopped at step N, by Ctrl-C (a KeyboardInterrupt from the log) or by
--max_seconds, and resumed to 2N.
Writes, per variant and way of stopping, the step the first part saved, the
largest difference over every tensor of the final checkpoints (weights,
both optimizers' slots and counts, the weight average, batch-norm
statistics) and the keys only one of them has.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

STEPS = 6  # 2N


def config_for(data_dir, runs, name, changes):
    from ssgan_tf.config import Config
    base = dict(dataset_dir=data_dir, train_dir=runs, batch_size=8, n_z=8,
                max_training_steps=STEPS, steps_per_call=STEPS // 2,
                log_step=STEPS // 2, write_summary_step=STEPS,
                test_sample_step=STEPS, output_save_step=STEPS,
                ckpt_save_step=STEPS, seed=5, run_name=name, num_labeled=8)
    changes = dict(changes)
    preset = changes.pop("preset")
    base.update(changes)
    return Config.from_preset(preset, **base)


def tensors(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {key: reader.get_tensor(key)
            for key in reader.get_variable_to_shape_map()
            if not key.startswith("save_counter")
            and key != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def interrupt_at(step):
    def log(line):
        if line.startswith(f"step {step}/"):
            raise KeyboardInterrupt
    return log


def main():
    from ssgan_tf import training
    out, data_dir, runs, variants = sys.argv[1:5]
    tf.config.experimental.enable_op_determinism()
    quiet = lambda *a: None  # noqa: E731
    results = {}
    for name, changes in json.loads(variants).items():
        stops = changes.pop("stops")
        whole = training.run(config_for(data_dir, runs, name + "-whole",
                                        changes), quiet)
        expected = tensors(whole["checkpoint"])
        for stop in stops:
            config = config_for(data_dir, runs, f"{name}-{stop}", changes)
            if stop == "ctrl_c":
                try:
                    training.run(config, interrupt_at(STEPS // 2))
                except KeyboardInterrupt:
                    pass
            else:  # stops after its first chunk of steps
                training.run(config.replace(max_seconds=1e-3), quiet)
            run_dir = os.path.join(runs, f"{name}-{stop}")
            saved = sorted(int(f[len("model-"):-len(".index")])
                           for f in os.listdir(run_dir) if f.endswith(".index"))
            resumed = training.run(config.replace(run_name=None,
                                                  checkpoint=run_dir), quiet)
            found = tensors(resumed["checkpoint"])
            shared = set(found) & set(expected)
            results[f"{name}/{stop}"] = {
                "first_part_saved": saved,
                "resumed_in": os.path.basename(resumed["run_dir"]),
                "final_step": resumed["step"],
                "tensors": len(shared),
                "only_one": sorted(set(found) ^ set(expected)),
                "max_abs_diff": max(float(np.max(np.abs(
                    found[k].astype(np.float64) - expected[k])))
                    for k in shared)}
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
