"""Choosing the tf.distribute strategy and checking the batch against it."""

import functools

import tensorflow as tf

from ssgan_tf.errors import UserError


@functools.lru_cache(maxsize=None)
def make_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """auto: MirroredStrategy over all GPUs if there are any, else the default
    strategy. mirrored: all GPUs, else every logical CPU device. one_device:
    the first GPU, else the CPU. multi_worker: MultiWorkerMirroredStrategy,
    configured by TF_CONFIG.

    One strategy per name and process: a second MirroredStrategy would number
    its collective operations (synchronized batch norm's) from the start
    again, and collide with the first's."""
    if name == "multi_worker":
        # Collective ops must be configured before TensorFlow runs anything
        # else, even before listing devices.
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return tf.distribute.MirroredStrategy() if gpus else \
            tf.distribute.get_strategy()
    if name == "mirrored":
        devices = [d.name for d in gpus] or \
            [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else
                                               "/cpu:0")
    raise UserError(f"--strategy {name}: expected auto, mirrored, one_device "
                    f"or multi_worker")


def per_replica_batch(global_batch: int, strategy) -> int:
    replicas = strategy.num_replicas_in_sync
    if global_batch % replicas:
        raise UserError(f"--batch_size {global_batch} does not divide evenly "
                        f"among {replicas} replicas")
    return global_batch // replicas


def is_chief(strategy) -> bool:
    """Whether this process writes checkpoints and summaries."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and
        "chief" not in resolver.cluster_spec().as_dict())
