"""Exact evaluation: every example of a split classified exactly once.

The original cycled a shuffled queue for len/batch + 1 batches and averaged the
per-batch accuracies, so some examples counted twice and the last batch
weighed as much as a full one. Here each example is seen once, the last
partial batch included, and the accuracy is correct / total.
"""

import json
import os
from typing import Dict, List, Optional

import numpy as np
import tensorflow as tf

from ssgan_tf.data import pipeline

EVAL_BATCH = 500


def make_predict_fn(discriminator, num_class):
    """A tf.function images [-1, 1] -> predicted class over the N real classes."""
    @tf.function(reduce_retracing=True)
    def predict(images):
        logits = discriminator(images, training=False)
        return tf.argmax(logits[:, :num_class], axis=-1, output_type=tf.int32)
    return predict


def predict(predict_fn, images, batch_size=EVAL_BATCH) -> np.ndarray:
    """Predicted labels for every image, in order."""
    outputs = [predict_fn(batch).numpy()
               for batch in pipeline.eval_batches(images, batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros(0, np.int32)


def confusion_matrix(labels, predictions, num_class) -> np.ndarray:
    """[true class, predicted class] counts."""
    matrix = np.zeros((num_class, num_class), np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64),
                       np.asarray(predictions, np.int64)), 1)
    return matrix


def report(labels, predictions, num_class,
           class_names: Optional[List[str]] = None) -> Dict:
    """Accuracy, per-class accuracy and the confusion matrix."""
    matrix = confusion_matrix(labels, predictions, num_class)
    totals = matrix.sum(axis=1)
    per_class = [float(matrix[k, k] / totals[k]) if totals[k] else None
                 for k in range(num_class)]
    count = int(matrix.sum())
    return {
        "accuracy": float(np.trace(matrix) / count) if count else 0.0,
        "num_examples": count,
        "per_class_accuracy": per_class,
        "confusion_matrix": matrix.tolist(),
        "class_names": list(class_names) if class_names else
        [str(k) for k in range(num_class)],
    }


def write_json(path: str, result: Dict):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
    os.replace(tmp, path)


# ------------------------------------------------------------------ evaler.py


def load_classifier(prefix, info, dataset):
    """The discriminator of checkpoint `prefix` (its weight average if the run
    kept one), restored; `info` is the run's config.json."""
    from ssgan_tf import models  # pylint: disable=import-outside-toplevel
    from ssgan_tf.train import checkpoint as ckpt_lib  # pylint: disable=import-outside-toplevel
    config = info["config"]
    data = {"image_shape": list(dataset.image_shape),
            "num_class": dataset.num_class, "model": config["model"]}
    ckpt_lib.check_compatible(info, data, prefix, dataset.name)
    _, discriminator = models.build(config["model"], dataset.image_shape,
                                    dataset.num_class, config["n_z"],
                                    config["norm_type"], config["deconv_type"])
    discriminator(tf.zeros([1] + list(dataset.image_shape)))
    key = "ema_discriminator" if config.get("ema_decay", 0) > 0 else \
        "discriminator"
    ckpt_lib.restore(tf.train.Checkpoint(**{key: discriminator}), prefix,
                     partial=True)
    return discriminator


def evaluate_checkpoint(run_dir, prefix, info, dataset, split, batch_size,
                        log=print) -> Dict:
    """Classifies every example of `dataset` once; writes eval-<step>.json."""
    discriminator = load_classifier(prefix, info, dataset)
    predictions = predict(make_predict_fn(discriminator, dataset.num_class),
                          dataset.images, batch_size)
    result = report(dataset.labels, predictions, dataset.num_class,
                    dataset.class_names)
    step = int(prefix.rsplit("-", 1)[-1]) if prefix.rsplit("-", 1)[-1].isdigit() \
        else 0
    result.update({"checkpoint": prefix, "step": step, "split": split,
                   "dataset": dataset.name})
    write_json(os.path.join(run_dir, f"eval-{step}.json"), result)
    log(format_report(result))
    return result


def format_report(result: Dict) -> str:
    names = result["class_names"]
    width = max(5, max(len(n) for n in names))
    lines = [f"{result['dataset']} {result['split']}: accuracy "
             f"{result['accuracy']:.4f} ({int(round(result['accuracy'] * result['num_examples']))}"
             f"/{result['num_examples']}) at step {result['step']} "
             f"({result['checkpoint']})", "per-class accuracy:"]
    for name, value in zip(names, result["per_class_accuracy"]):
        lines.append(f"  {name:>{width}}: " +
                     ("-" if value is None else f"{value:.4f}"))
    lines.append("confusion matrix (rows: true class, columns: predicted):")
    for name, row in zip(names, result["confusion_matrix"]):
        lines.append(f"  {name:>{width}} " + " ".join(f"{c:5d}" for c in row))
    return "\n".join(lines)


def run(eval_config, log=print) -> Dict:
    """evaler.py: one checkpoint, every checkpoint of a run, or follow a run."""
    from ssgan_tf import plots  # pylint: disable=import-outside-toplevel
    from ssgan_tf.data import format as data_format  # pylint: disable=import-outside-toplevel
    from ssgan_tf.errors import UserError  # pylint: disable=import-outside-toplevel
    from ssgan_tf.train import checkpoint as ckpt_lib  # pylint: disable=import-outside-toplevel
    if not eval_config.checkpoint:
        raise UserError("--checkpoint is required (a run folder or a "
                        "model-<step> prefix); evaluating untrained weights "
                        "would mean nothing")
    path = eval_config.checkpoint
    if not os.path.exists(path) and not os.path.isfile(path + ".index") and \
            not os.path.isabs(path) and eval_config.train_dir:
        path = os.path.join(eval_config.train_dir, path)
    run_dir, prefix = ckpt_lib.resolve_checkpoint(path)
    info = ckpt_lib.read_run_info(run_dir)
    if not info:
        raise UserError(f"--checkpoint {path}: no config.json in {run_dir}; "
                        f"was it written by trainer.py?")
    dataset = data_format.load_dataset(eval_config.dataset_dir,
                                       eval_config.dataset)
    if eval_config.data_id:
        dataset = data_format.select_ids(dataset, eval_config.data_id,
                                         "--data_id")
        split = "data_id"
    else:
        dataset = data_format.load_split(eval_config.dataset_dir,
                                         eval_config.dataset, eval_config.split)
        split = eval_config.split
    if eval_config.all_checkpoints:
        state = tf.train.get_checkpoint_state(run_dir)
        prefixes = list(state.all_model_checkpoint_paths) if state else [prefix]
        results = [evaluate_checkpoint(run_dir, p, info, dataset, split,
                                       eval_config.batch_size, log)
                   for p in prefixes]
        write_json(os.path.join(run_dir, "eval-all.json"),
                   {"steps": [r["step"] for r in results],
                    "accuracy": [r["accuracy"] for r in results],
                    "split": split, "dataset": dataset.name})
        result = results[-1]
    elif eval_config.watch:
        result = None
        last_step = info["config"].get("max_training_steps")
        for new_prefix in tf.train.checkpoints_iterator(
                run_dir, min_interval_secs=1, timeout=eval_config.watch_timeout):
            result = evaluate_checkpoint(run_dir, new_prefix, info, dataset,
                                         split, eval_config.batch_size, log)
            if last_step is not None and result["step"] >= last_step:
                break
        if result is None:
            raise UserError(f"--watch: no new checkpoint in {run_dir} within "
                            f"{eval_config.watch_timeout:.0f} s")
    else:
        result = evaluate_checkpoint(run_dir, prefix, info, dataset, split,
                                     eval_config.batch_size, log)
    if eval_config.plots:
        plots.write_run_pictures(run_dir, result)
    return result
