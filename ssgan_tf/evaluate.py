"""Exact evaluation: every example of a split classified exactly once.

The library half of evaluation (load a classifier, predict, report); the
evaler application (one checkpoint, all of them, or following a run) is
`evaler.py`.

The original cycled a shuffled queue for len/batch + 1 batches and averaged the
per-batch accuracies, so some examples counted twice and the last batch
weighed as much as a full one. Here each example is seen once, the last
partial batch included, and the accuracy is correct / total.
"""

from typing import Dict, List, Optional

import numpy as np
import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib, models
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


def load_classifier(prefix, info, dataset):
    """The discriminator of checkpoint `prefix` (its weight average if the run
    kept one), restored; `info` is the run's config.json."""
    config = info["config"]
    data = {"image_shape": list(dataset.image_shape),
            "num_class": dataset.num_class, "model": config["model"]}
    ckpt_lib.check_compatible(info, data, prefix, dataset.name)
    _, discriminator = models.build(config["model"], dataset.image_shape,
                                    dataset.num_class, config["n_z"],
                                    config["norm_type"], config["deconv_type"],
                                    d_width=config.get("d_width", 96))
    discriminator(tf.zeros([1] + list(dataset.image_shape)))
    key = "ema_discriminator" if config.get("ema_decay", 0) > 0 else \
        "discriminator"
    ckpt_lib.restore(tf.train.Checkpoint(**{key: discriminator}), prefix,
                     partial=True)
    return discriminator


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
