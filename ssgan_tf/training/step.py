"""One training step per replica, and a tf.function that runs several of them.

A step is one discriminator update and `update_rate` generator updates, each
network with its own tape and its own Adam optimizer over its own trainable
variables only. Per-example losses are scaled by the global batch
with `tf.nn.compute_average_loss`, so the replicas' summed gradients are the
gradient of the global mean. The step counter is the D optimizer's
`iterations`, which advances on every step (also one whose mixed-precision
update was skipped).

Every random draw is a function of (seed, step, the example's global row):
the generator's noise travels with the batch, the discriminator's noise and
dropout are placed by `noise.Draws`. One device and k replicas, a resumed and
an uninterrupted run, draw the same numbers for the same example.
"""

import keras
import tensorflow as tf

from ssgan_tf import losses
from ssgan_tf.models import noise as noise_lib
from ssgan_tf.objectives import with_fake_logit

METRICS = ("d_loss", "d_loss_real", "d_loss_fake", "g_loss", "S_loss",
           "accuracy", "GAN_loss", "recon_weight")


def noise_passes(objective, update_rate) -> int:
    """Generator passes per step, each with its own noise: one for the D
    update, then one per G update; none when G is not trained."""
    return 0 if objective.generator is None else 1 + update_rate


class TrainStep:
    """Builds the per-replica step and the multi-step tf.function.

    Args:
      config: the run's Config.
      strategy: the tf.distribute strategy the models were built under.
      generator, discriminator: Keras models; the discriminator provides
        `features_and_logits(images, training)`.
      g_optimizer, d_optimizer: one Adam per network.
      objective: the losses (`objectives.build`).
      num_class: N, the number of real classes.
      semi_supervised: whether the unlabeled stream differs from the labeled one
        (only then does D see the unlabeled batch).
      ema: an optional EMA object with `update()`, run after each step.
    """

    def __init__(self, config, strategy, generator, discriminator, g_optimizer,
                 d_optimizer, objective, num_class, semi_supervised, ema=None):
        self.config = config
        self.strategy = strategy
        self.generator = generator
        self.discriminator = discriminator
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.objective = objective
        self.g_updates = max(0, noise_passes(objective, config.update_rate)
                             - 1)
        self.num_class = num_class
        self.semi_supervised = semi_supervised
        self.ema = ema
        self.global_batch = config.batch_size
        self.replicas = strategy.num_replicas_in_sync
        self.per_replica = self.global_batch // self.replicas
        replica_step = self.replica_step
        if self.jit_compiled:
            replica_step = tf.function(replica_step, jit_compile=True)
        self._replica_step = replica_step
        self.run = self._multi_step if config.debug else tf.function(
            self._multi_step)

    @property
    def jit_compiled(self) -> bool:
        """Whether XLA compiles the step: with one replica only (a compiled
        replica step cannot reach the other replicas' variables or
        synchronize with them)."""
        return self.config.jit_compile and self.replicas == 1

    def _average(self, per_example):
        return tf.nn.compute_average_loss(per_example,
                                          global_batch_size=self.global_batch)

    @staticmethod
    def _scaled(optimizer, loss):
        """The loss to differentiate: scaled up under mixed precision (by the
        LossScaleOptimizer, which unscales the gradients); call it inside the
        tape so the scaling is recorded."""
        if isinstance(optimizer, tf.keras.optimizers.LossScaleOptimizer):
            return optimizer.scale_loss(loss)
        return loss

    def _apply(self, optimizer, tape, scaled_loss, variables, count):
        """Applies the gradient; `count` is the optimizer's update count
        after this update."""
        gradients = tape.gradient(scaled_loss, variables)
        if self.config.clip_norm > 0:
            gradients = self._clip(optimizer, gradients)
        optimizer.apply_gradients(zip(gradients, variables))
        if isinstance(optimizer, tf.keras.optimizers.LossScaleOptimizer):
            # A loss-scale overflow skips the update and with it the count;
            # the count is the training step, which every schedule and
            # checkpoint name follows, so it advances anyway.
            optimizer.iterations.assign(tf.cast(count,
                                                optimizer.iterations.dtype))

    def _clip(self, optimizer, gradients):
        """Clips the gradient of the global batch to `clip_norm`.

        Keras's own `global_clipnorm` clips each replica's share of the
        gradient before the optimizer sums the shares, so under a
        multi-replica strategy it would clip something else than one device
        does. Here the shares are summed first, the sum is clipped, and each
        replica passes 1/replicas of it on, which the optimizer's own sum
        restores.
        """
        replicas = self.strategy.num_replicas_in_sync
        gradients = list(gradients)
        present = [i for i, g in enumerate(gradients) if g is not None]
        if replicas > 1 and present:
            summed = tf.distribute.get_replica_context().all_reduce(
                tf.distribute.ReduceOp.SUM, [gradients[i] for i in present])
            for index, gradient in zip(present, summed):
                gradients[index] = gradient
        limit = tf.constant(self.config.clip_norm, keras.config.floatx())
        if isinstance(optimizer, tf.keras.optimizers.LossScaleOptimizer):
            # The gradients still carry the loss scale: clip at the scaled
            # norm (non-finite gradients stay non-finite and the step is
            # skipped by the optimizer).
            limit *= tf.cast(optimizer.dynamic_scale, keras.config.floatx())
        gradients, _ = tf.clip_by_global_norm(gradients, limit)
        if replicas > 1:
            gradients = [None if g is None else g / replicas for g in gradients]
        return gradients

    def _draws(self, step, streams):
        """The discriminator's draws for this replica's rows of the batches
        of `streams` (noise.LABELED, ...), concatenated in that order."""
        context = tf.distribute.get_replica_context()
        first = context.replica_id_in_sync_group * self.per_replica
        return noise_lib.Draws(
            self.config.seed, step, self.global_batch,
            [noise_lib.Segment(stream, first, self.per_replica)
             for stream in streams])

    def _discriminate(self, batches, streams, step):
        """[(features, N + 1 logits)] of the discriminator on each batch;
        `streams` names each batch's random stream (noise.py).

        A discriminator whose output for an example does not depend on the
        rest of its batch (no batch norm: `batch_independent`) sees the
        batches as one concatenated batch: one matrix product per layer
        instead of one per batch, the same values (its noise and dropout are
        drawn per example either way). Others see each batch on its own, as
        the original did.
        """
        discriminator = self.discriminator
        # Real images come from the pipeline in float32, fakes in floatx.
        batches = [tf.cast(batch, keras.config.floatx()) for batch in batches]
        if len(batches) > 1 and getattr(discriminator, "batch_independent",
                                        False):
            sizes = [tf.shape(batch)[0] for batch in batches]
            features, logits = discriminator.features_and_logits(
                tf.concat(batches, axis=0), training=True,
                draws=self._draws(step, streams))
            return [(f, with_fake_logit(l, self.num_class)) for f, l in zip(
                tf.split(features, sizes), tf.split(logits, sizes))]
        passes = []
        for batch, stream in zip(batches, streams):
            features, logits = discriminator.features_and_logits(
                batch, training=True, draws=self._draws(step, [stream]))
            passes.append((features, with_fake_logit(logits, self.num_class)))
        return passes

    def _generator_update(self, index, z, images, fm_images, step, g_count):
        """G update `index` of the step on noise `z` against D as it is now;
        returns its (unscaled) loss. `fm_images`: the real batch of feature
        matching; `g_count`: G's update count before the step."""
        generator, loss = self.generator, self.objective.generator
        with tf.GradientTape() as tape:
            fake_images = generator(z, training=True)
            fake_features, fake_logits = self._discriminate(
                [fake_images], [noise_lib.FAKE_G + 2 * index], step)[0]
            real_features = None
            if loss.uses_real_features:
                # A constant of the G update: off the tape, its backward pass
                # is not computed at all.
                with tape.stop_recording():
                    real_features = self._discriminate(
                        [fm_images], [noise_lib.REAL_G + 2 * index],
                        step)[0][0]
            # (D's update count, which the schedules follow: the step + 1)
            g_loss = loss(step + 1, fake_logits, fake_features,
                          real_features, images, fake_images)
            scaled_g_loss = self._scaled(self.g_optimizer, g_loss)
        self._apply(self.g_optimizer, tape, scaled_g_loss,
                    generator.trainable_variables, g_count + index + 1)
        return g_loss

    def replica_step(self, batch, step, g_count):
        """One D update, then `update_rate` G updates on fresh noise, each
        against the updated D (alternating, as the original). `step`: the
        training step, which the discriminator's draws depend on; `g_count`:
        G's update count. Both are read before the step: a replica reading
        a variable another replica updates could see either value.

        Returns:
          Sums over this replica's examples of each metric (divided by the
          global batch after the cross-replica sum).
        """
        images, labels = batch["image"], batch["label"]
        trains_generator = self.objective.generator is not None

        # Discriminator: labeled, generated and unlabeled batches (the
        # labeled one alone when G is not trained)
        batches, streams = [images], [noise_lib.LABELED]
        if trains_generator:
            # [batch, passes, n_z], drawn in the pipeline
            batches.append(self.generator(batch["noise"][:, 0], training=True))
            streams.append(noise_lib.FAKE)
            if self.semi_supervised:
                batches.append(batch["unlabeled"])
                streams.append(noise_lib.UNLABELED)
        with tf.GradientTape() as tape:
            passes = self._discriminate(batches, streams, step)
            labeled_logits = passes[0][1]
            fake_logits = passes[1][1] if trains_generator else None
            unlabeled_logits = passes[2][1] if len(passes) > 2 else None
            real_term, fake_term = self.objective.discriminator(
                labeled_logits, labels, unlabeled_logits, fake_logits)
            d_loss = self._average(real_term + fake_term)
            scaled_d_loss = self._scaled(self.d_optimizer, d_loss)
        self._apply(self.d_optimizer, tape, scaled_d_loss,
                    self.discriminator.trainable_variables, step + 1)

        # Generator: each update on fresh noise
        g_loss = tf.constant(0.0, keras.config.floatx())
        fm_images = batch.get("unlabeled_g", batch["unlabeled"])
        for index in range(self.g_updates):
            g_loss = self._generator_update(index, batch["noise"][:, 1 + index],
                                            images, fm_images, step, g_count)

        # Metrics, as sums over this replica's examples
        supervised = losses.supervised_loss(labeled_logits, labels,
                                            self.num_class)
        predicted = tf.argmax(labeled_logits[:, :self.num_class], -1,
                              output_type=tf.int32)
        correct = tf.cast(tf.equal(predicted, tf.cast(labels, tf.int32)),
                          keras.config.floatx())
        scale = tf.cast(self.global_batch, keras.config.floatx())
        return {
            "d_loss": d_loss * scale,
            "d_loss_real": tf.reduce_sum(real_term),
            "d_loss_fake": tf.reduce_sum(fake_term),
            "g_loss": g_loss * scale,
            "S_loss": tf.reduce_sum(supervised),
            "accuracy": tf.reduce_sum(correct),
        }

    def _multi_step(self, iterator, num_steps):
        """Runs `num_steps` steps; returns the last step's global metrics."""
        metrics = {name: tf.constant(0.0, keras.config.floatx())
                   for name in METRICS}
        for _ in tf.range(num_steps):
            batch = next(iterator)
            # Read once, before any update, for every replica.
            step = tf.cast(tf.identity(self.d_optimizer.iterations.value),
                           tf.int64)
            g_count = tf.zeros([], tf.int64) if self.g_optimizer is None else \
                tf.cast(tf.identity(self.g_optimizer.iterations.value),
                        tf.int64)
            per_replica = self.strategy.run(self._replica_step,
                                            args=(batch, step, g_count))
            if self.ema is not None:
                self.ema.update()
            summed = {name: self.strategy.reduce(tf.distribute.ReduceOp.SUM,
                                                 value, axis=None)
                      for name, value in per_replica.items()}
            metrics = {name: value / self.global_batch
                       for name, value in summed.items()}
            metrics["GAN_loss"] = metrics["d_loss"] + metrics["g_loss"]
            metrics["recon_weight"] = tf.zeros([], keras.config.floatx()) if \
                self.objective.generator is None else \
                self.objective.generator.recon_weight(self.d_optimizer.iterations)
        return metrics
