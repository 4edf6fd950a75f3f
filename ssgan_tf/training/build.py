"""The objects a run trains, built under the strategy's scope."""

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib, models, objectives
from ssgan_tf.data import pipeline
from ssgan_tf.models import noise as noise_lib
from ssgan_tf.training import ema as ema_lib
from ssgan_tf.training import optimizer as optimizer_lib
from ssgan_tf.training import schedule as schedule_lib

INIT_BATCH = 500  # images of weight norm's data-dependent initialization


@dataclasses.dataclass
class Built:
    """The networks, their optimizers and losses, the weight average, the
    time-fitted plan (`--max_seconds` alone; else None) and the checkpoint
    that tracks them (`tracked`: its parts by name)."""
    strategy: tf.distribute.Strategy
    generator: tf.keras.Model
    discriminator: tf.keras.Model
    g_optimizer: tf.keras.optimizers.Optimizer
    d_optimizer: tf.keras.optimizers.Optimizer
    objective: objectives.Objective
    ema: Optional[ema_lib.WeightAverage]
    schedule: Optional[schedule_lib.PlanVariables]
    checkpoint: tf.train.Checkpoint
    tracked: dict

    @property
    def classifier(self):
        """The discriminator evaluation uses: the weight average if kept."""
        return self.discriminator if self.ema is None else self.ema.averaged

    @property
    def step(self) -> int:
        return int(self.d_optimizer.iterations.numpy())


def build(config, strategy, image_shape, num_class) -> Built:
    """Models, optimizers, weight average and checkpoint, created and built
    inside `strategy.scope()` (slot variables must be mirrored too)."""
    with strategy.scope():
        # One replica's statistics are the global batch's already.
        sync = config.sync_batch_norm and strategy.num_replicas_in_sync > 1
        generator, discriminator = models.build(
            config.model, image_shape, num_class, config.n_z, config.norm_type,
            config.deconv_type, sync, config.g_bn_scale, config.d_init,
            config.d_width)
        generator(tf.zeros([2, config.n_z]))
        discriminator(tf.zeros([2] + list(image_shape)))
        plan = schedule_lib.PlanVariables(schedule_lib.fixed_plan(config)) \
            if config.fit_to_time else None
        d_optimizer = optimizer_lib.build_optimizer(
            config, config.learning_rate_d, plan=plan)
        # G's schedule counts training steps, which D's update count is.
        g_optimizer = optimizer_lib.build_optimizer(
            config, config.learning_rate_g,
            step_counter=d_optimizer.iterations, plan=plan)
        g_optimizer.build(generator.trainable_variables)
        d_optimizer.build(discriminator.trainable_variables)
        tracked = dict(generator=generator, discriminator=discriminator,
                       g_optimizer=g_optimizer, d_optimizer=d_optimizer,
                       step=d_optimizer.iterations)
        ema = weight_average(config, discriminator, image_shape, num_class,
                             step=d_optimizer.iterations)
        if ema is not None:
            tracked["ema_discriminator"] = ema.averaged
        if plan is not None:
            tracked["schedule"] = plan
        checkpoint = tf.train.Checkpoint(**tracked)
    objective = objectives.build(config, num_class,
                                 strategy.num_replicas_in_sync)
    return Built(strategy, generator, discriminator, g_optimizer, d_optimizer,
                 objective, ema, plan, checkpoint, tracked)


def restore(built: Built, prefix: str) -> bool:
    """Restores `built` from checkpoint `prefix`; False when the run is
    time-fitted and the checkpoint has no plan (it was trained to a step
    count): its fit then starts afresh here."""
    parts = built.tracked
    if built.schedule is not None and not any(
            name.startswith("schedule/")
            for name, _ in _variables_of(prefix)):
        parts = {k: v for k, v in parts.items() if k != "schedule"}
    with built.strategy.scope():
        ckpt_lib.restore(tf.train.Checkpoint(**parts), prefix)
    return "schedule" in parts


def _variables_of(prefix):
    try:
        return tf.train.list_variables(prefix)
    except Exception:  # pylint: disable=broad-except
        return []  # the restore itself reports what is wrong


def weight_average(config, discriminator, image_shape, num_class, step=None):
    """The average of D's weights (`--ema_decay`, warmed up by the training
    step `step`) over a second discriminator built and called here, or None;
    call it inside the strategy's scope."""
    if config.ema_decay <= 0:
        return None
    _, averaged = models.build(config.model, image_shape, num_class,
                               config.n_z, config.norm_type, config.deconv_type,
                               d_width=config.d_width)
    averaged(tf.zeros([2] + list(image_shape)))
    return ema_lib.WeightAverage(discriminator, averaged, config.ema_decay,
                                 step)


def data_dependent_init(built: Built, images, labeled, n_z: int, seed: int):
    """Weight normalization's data-dependent initialization, for the networks
    that have one, on INIT_BATCH training images drawn at random by `seed`
    (from the labeled ones, `labeled` their indices, where the network's
    paper code initialized on labeled images) and noise drawn from `seed`;
    the weight average then starts from the initialized weights."""
    pool = (np.asarray(labeled, np.int64)
            if getattr(built.discriminator, "init_from_labeled", False)
            else np.arange(len(images), dtype=np.int64))
    count = min(len(pool), INIT_BATCH)
    chosen = pool[pipeline.permutation(seed, noise_lib.INIT, 0, len(pool))
                  .numpy()[:count]]
    images = np.asarray(images[chosen])
    with built.strategy.scope():
        if hasattr(built.discriminator, "initialize"):
            built.discriminator.initialize(
                pipeline.scale_images(images),
                draws=noise_lib.Draws.whole(seed, 0, count, noise_lib.INIT))
        if hasattr(built.generator, "initialize"):
            built.generator.initialize(tf.random.stateless_uniform(
                [count, n_z], [seed, noise_lib.INIT], -1, 1, alg="philox"))
        if built.ema is not None:
            built.ema.copy()
