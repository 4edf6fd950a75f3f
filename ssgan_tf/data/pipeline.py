"""Arrays -> tf.data: the labeled, unlabeled and evaluation streams.

The images stay where they are (the cache file, however large): each
batch is read from it by index, in ascending row order, and scaled from uint8
to [-1, 1] as the original did, after batching so the conversion is one
vectorized op per batch. Indices, labels and the order are what live in
memory.

Order is a function, not a state: the examples of stream s in epoch e come in
a permutation drawn from (run seed, s, e), and training step t
takes rows [t * batch, (t + 1) * batch) of the stream's endless sequence of
epochs. So a stream started at step t (a resumed run) continues exactly where
an uninterrupted one would be.
"""

from typing import Optional

import numpy as np
import tensorflow as tf

from ssgan_tf.data.rows import ImageRows


# The streams' numbers in the permutation seeds.
LABELED_STREAM, UNLABELED_STREAM, SECOND_UNLABELED_STREAM = 0, 1, 2
ENDLESS = 2**62


def scale_images(images):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def permutation(seed: int, stream: int, epoch, count: int):
    """The order of `count` examples in one epoch of a stream: a Philox draw
    keyed by (seed, stream, epoch), sorted."""
    key = tf.random.experimental.stateless_fold_in(
        tf.constant([seed, stream], tf.int64), epoch, alg="philox")
    return tf.argsort(tf.random.stateless_uniform(
        [count], key, minval=None, maxval=None, dtype=tf.int64,
        alg="philox"), stable=True)


def stream_order(seed: int, stream: int, count: int, batch_size: int,
                 start_step: int = 0) -> tf.data.Dataset:
    """Batches of indices (int64 [batch]) of a stream's endless sequence of
    epochs, from the batch of training step `start_step` on."""
    first_epoch, offset = divmod(start_step * batch_size, count)

    def epoch_examples(epoch):
        skip = tf.where(tf.equal(epoch, first_epoch),
                        tf.constant(offset, tf.int64), tf.constant(0, tf.int64))
        order = tf.cast(permutation(seed, stream, epoch, count), tf.int64)
        return tf.data.Dataset.from_tensor_slices(order[skip:])

    return tf.data.Dataset.range(first_epoch, ENDLESS).flat_map(
        epoch_examples).batch(batch_size)


def _gatherer(images):
    """`gather(indices)`: the uint8 images at `indices` (int64 [batch]),
    read from the array (or the rows of one) in ascending row order."""
    rows = ImageRows(images)
    shape = list(rows.shape[1:])

    def gather(indices):
        batch = tf.numpy_function(rows.read, [indices], tf.uint8,
                                  stateful=False)
        return tf.ensure_shape(batch, [None] + shape)
    return gather


def train_stream(images, labels, labeled_indices: Optional[np.ndarray],
                 batch_size: int, seed: int, noise_shape=None,
                 second_unlabeled: bool = False,
                 start_step: int = 0) -> tf.data.Dataset:
    """Endless global batches {"image", "label", "unlabeled"[, "unlabeled_g"]
    [, "noise"]}, the first for training step `start_step`.

    `image`/`label` come from the labeled examples (repeated as often as the
    unlabeled stream needs); `unlabeled` from every training image, labels
    dropped. With every example labeled, `unlabeled` is the labeled batch itself.
    `second_unlabeled` adds `unlabeled_g`, every training image again in an
    order of its own (the paper's second unlabeled stream, for the
    generator's feature matching).
    `noise_shape` (passes, n_z) adds the generator's uniform noise in [-1, 1],
    [batch, passes, n_z], drawn statelessly from (seed, step): the noise
    then travels with the examples, so splitting a batch across replicas or
    workers changes nothing. (passes 0: no noise.)
    """
    labels = np.asarray(labels, np.int32)
    count = len(labels)
    all_labeled = labeled_indices is None or len(labeled_indices) == count
    gather = _gatherer(images)
    label_table = tf.constant(labels)
    labeled = tf.constant(np.arange(count) if all_labeled
                          else np.asarray(labeled_indices), tf.int64)
    streams = {"step": tf.data.Dataset.range(start_step, ENDLESS),
               "labeled": stream_order(seed, LABELED_STREAM,
                                       int(labeled.shape[0]), batch_size,
                                       start_step)}
    if not all_labeled:
        streams["unlabeled"] = stream_order(seed, UNLABELED_STREAM, count,
                                            batch_size, start_step)
    if second_unlabeled:
        streams["unlabeled_g"] = stream_order(
            seed, SECOND_UNLABELED_STREAM, count, batch_size, start_step)

    image_streams = [name for name in ("unlabeled", "unlabeled_g")
                     if name in streams]

    def batch_of(order):
        chosen = tf.gather(labeled, order["labeled"])
        # One read for every stream's images: one pass over the file a step.
        images = tf.split(scale_images(gather(tf.concat(
            [chosen] + [order[name] for name in image_streams], 0))),
            1 + len(image_streams))
        batch = {"image": images[0], "label": tf.gather(label_table, chosen),
                 "unlabeled": images[0]}
        batch.update(zip(image_streams, images[1:]))
        if noise_shape is not None and noise_shape[0] > 0:
            batch["noise"] = tf.random.stateless_uniform(
                [batch_size] + list(noise_shape),
                seed=tf.stack([tf.constant(seed, tf.int64), order["step"]]),
                minval=-1.0, maxval=1.0)
        return batch

    return tf.data.Dataset.zip(streams).map(
        batch_of, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def distributed_stream(strategy, make_global_stream, global_batch: int):
    """The global stream split across replicas and workers the same way, so
    that every replica's rows are the rows a single device would see there.

    Each input pipeline (one per worker) builds the same global stream and
    keeps the rows of its own replicas; within a pipeline the per-replica
    slices are handed to the local replicas in order.
    """
    replicas = strategy.num_replicas_in_sync
    per_replica = global_batch // replicas

    def dataset_fn(context):
        local = replicas // context.num_input_pipelines
        first = context.input_pipeline_id * local

        def slices(batch):
            return tf.data.Dataset.from_tensor_slices(
                tf.nest.map_structure(lambda t: tf.reshape(
                    t[first * per_replica:(first + local) * per_replica],
                    [local, per_replica] + t.shape[1:].as_list()), batch))
        return make_global_stream().flat_map(slices).prefetch(tf.data.AUTOTUNE)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
    return strategy.distribute_datasets_from_function(dataset_fn, options)


def eval_batches(images, batch_size: int):
    """Every image exactly once, in order, the last batch partial; scaled."""
    for start in range(0, len(images), batch_size):
        yield scale_images(np.asarray(images[start:start + batch_size]))
