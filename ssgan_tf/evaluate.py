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
