"""Arrays -> tf.data: the labeled, unlabeled and evaluation streams.

The arrays are loaded once (format.load_dataset) and fed to tf.data; images are
scaled from uint8 to [-1, 1] as the original did, after batching so the
conversion is one vectorized op per batch. Arrays larger than
`IN_MEMORY_LIMIT_BYTES` stay memory-mapped and are streamed block by block.
"""

from typing import Optional

import numpy as np
import tensorflow as tf


IN_MEMORY_LIMIT_BYTES = 2 << 30
_STREAM_BLOCK = 4096
_SHUFFLE_BUFFER = 10000


def scale_images(images):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _in_memory(images):
    """The images as one tensor when they fit in memory (streams built on the
    same tensor share it; each built on the array would copy it), else as
    they are."""
    if isinstance(images, tf.Tensor) or images.nbytes > IN_MEMORY_LIMIT_BYTES:
        return images
    return tf.convert_to_tensor(np.asarray(images))


def _examples(images, labels, seed):
    """An endless shuffled stream of (image uint8, label int32)."""
    labels = np.asarray(labels, np.int32)
    images = _in_memory(images)
    if isinstance(images, tf.Tensor):
        data = tf.data.Dataset.from_tensor_slices((images, labels))
        return data.shuffle(len(labels), seed=seed,
                            reshuffle_each_iteration=True).repeat()

    def blocks():  # larger than memory: contiguous blocks in shuffled order
        rng = np.random.RandomState(seed)
        starts = np.arange(0, len(labels), _STREAM_BLOCK)
        while True:
            for start in rng.permutation(starts):
                stop = start + _STREAM_BLOCK
                yield np.asarray(images[start:stop]), labels[start:stop]
    spec = (tf.TensorSpec((None,) + images.shape[1:], tf.uint8),
            tf.TensorSpec((None,), tf.int32))
    data = tf.data.Dataset.from_generator(blocks, output_signature=spec)
    return data.unbatch().shuffle(_SHUFFLE_BUFFER, seed=seed)


def train_stream(images, labels, labeled_indices: Optional[np.ndarray],
                 batch_size: int, seed: int, noise_shape=None,
                 second_unlabeled: bool = False) -> tf.data.Dataset:
    """Endless global batches {"image", "label", "unlabeled"[, "unlabeled_g"]
    [, "noise"]}.

    `image`/`label` come from the labeled examples (repeated as often as the
    unlabeled stream needs); `unlabeled` from every training image, labels
    dropped. With every example labeled, `unlabeled` is the labeled batch itself.
    `second_unlabeled` adds `unlabeled_g`, every training image again in an
    order of its own (the paper's second unlabeled stream, for the
    generator's feature matching).
    `noise_shape` (passes, n_z) adds the generator's uniform noise in [-1, 1],
    [batch, passes, n_z], drawn statelessly from (seed, batch number): the
    noise then travels with the examples, so splitting a batch across replicas
    or workers changes nothing.
    """
    all_labeled = labeled_indices is None or len(labeled_indices) == len(labels)
    no_labels = np.zeros(len(labels), np.int32)
    everything = _in_memory(images)
    if all_labeled:
        labeled = _examples(everything, labels, seed).batch(
            batch_size, drop_remainder=True)
        data = labeled.map(lambda x, y: {"image": scale_images(x), "label": y,
                                         "unlabeled": scale_images(x)})
    else:
        labeled = _examples(np.asarray(images[labeled_indices]),
                            np.asarray(labels)[labeled_indices], seed)
        unlabeled = _examples(everything, no_labels, seed + 1)
        data = tf.data.Dataset.zip((
            labeled.batch(batch_size, drop_remainder=True),
            unlabeled.batch(batch_size, drop_remainder=True)))
        data = data.map(lambda lab, unl: {"image": scale_images(lab[0]),
                                          "label": lab[1],
                                          "unlabeled": scale_images(unl[0])})
    if second_unlabeled:
        second = _examples(everything, no_labels, seed + 2).batch(
            batch_size, drop_remainder=True)

        def add_second(batch, unl):
            return dict(batch, unlabeled_g=scale_images(unl[0]))
        data = tf.data.Dataset.zip((data, second)).map(add_second)
    if noise_shape is not None:
        shape = [batch_size] + list(noise_shape)

        def add_noise(index, batch):
            batch = dict(batch)
            batch["noise"] = tf.random.stateless_uniform(
                shape, seed=tf.stack([tf.cast(seed, tf.int64), index]),
                minval=-1.0, maxval=1.0)
            return batch
        data = data.enumerate().map(add_noise)
    return data


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
