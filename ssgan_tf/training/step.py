"""One training step per replica, and a tf.function that runs several of them.

A step is one discriminator update and `update_rate` generator updates, each
network with its own tape and its own Adam optimizer over its own trainable
variables only. Per-example losses are scaled by the global batch
with `tf.nn.compute_average_loss`, so the replicas' summed gradients are the
gradient of the global mean. The step counter is the D optimizer's
`iterations`.
"""

import tensorflow as tf

from ssgan_tf import losses
from ssgan_tf.objectives import with_fake_logit

METRICS = ("d_loss", "d_loss_real", "d_loss_fake", "g_loss", "S_loss",
           "accuracy", "GAN_loss", "recon_weight")


def noise_passes(objective, update_rate) -> int:
    """Generator passes per step, each with its own noise: one for the D
    update, then one per G update."""
    return 1 + (update_rate if objective.generator is not None else 0)


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
        self.g_updates = noise_passes(objective, config.update_rate) - 1
        self.num_class = num_class
        self.semi_supervised = semi_supervised
        self.ema = ema
        self.global_batch = config.batch_size
        replica_step = self.replica_step
        if config.jit_compile:
            replica_step = tf.function(replica_step, jit_compile=True)
        self._replica_step = replica_step
        self.run = self._multi_step if config.debug else tf.function(
            self._multi_step)

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

    def _apply(self, optimizer, tape, scaled_loss, variables):
        gradients = tape.gradient(scaled_loss, variables)
        if self.config.clip_norm > 0:
            gradients = self._clip(optimizer, gradients)
        optimizer.apply_gradients(zip(gradients, variables))

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
        limit = tf.constant(self.config.clip_norm, tf.float32)
        if isinstance(optimizer, tf.keras.optimizers.LossScaleOptimizer):
            # The gradients still carry the loss scale: clip at the scaled
            # norm (non-finite gradients stay non-finite and the step is
            # skipped by the optimizer).
            limit *= tf.cast(optimizer.dynamic_scale, tf.float32)
        gradients, _ = tf.clip_by_global_norm(gradients, limit)
        if replicas > 1:
            gradients = [None if g is None else g / replicas for g in gradients]
        return gradients

    def _discriminate(self, batches):
        """[(features, N + 1 logits)] of the discriminator on each batch.

        A discriminator whose output for an example does not depend on the
        rest of its batch (no batch norm: `batch_independent`) sees the
        batches as one concatenated batch: one matrix product per layer
        instead of one per batch, the same values in distribution (its noise
        and dropout are drawn per element either way). Others see each batch
        on its own, as the original did.
        """
        discriminator = self.discriminator
        if len(batches) > 1 and getattr(discriminator, "batch_independent",
                                        False):
            sizes = [tf.shape(batch)[0] for batch in batches]
            features, logits = discriminator.features_and_logits(
                tf.concat(batches, axis=0), training=True)
            return [(f, with_fake_logit(l, self.num_class)) for f, l in zip(
                tf.split(features, sizes), tf.split(logits, sizes))]
        passes = []
        for batch in batches:
            features, logits = discriminator.features_and_logits(
                batch, training=True)
            passes.append((features, with_fake_logit(logits, self.num_class)))
        return passes

    def _generator_update(self, z, images, fm_images):
        """One G update on noise `z` against D as it is now; returns its
        (unscaled) loss. `fm_images`: the real batch of feature matching."""
        generator, loss = self.generator, self.objective.generator
        with tf.GradientTape() as tape:
            fake_images = generator(z, training=True)
            fake_features, fake_logits = self._discriminate([fake_images])[0]
            real_features = None
            if loss.uses_real_features:
                # A constant of the G update: off the tape, its backward pass
                # is not computed at all.
                with tape.stop_recording():
                    real_features = self._discriminate([fm_images])[0][0]
            g_loss = loss(self.d_optimizer.iterations, fake_logits,
                          fake_features, real_features, images, fake_images)
            scaled_g_loss = self._scaled(self.g_optimizer, g_loss)
        self._apply(self.g_optimizer, tape, scaled_g_loss,
                    generator.trainable_variables)
        return g_loss

    def replica_step(self, batch):
        """One D update, then `update_rate` G updates on fresh noise, each
        against the updated D (alternating, as the original).

        Returns:
          Sums over this replica's examples of each metric (divided by the
          global batch after the cross-replica sum).
        """
        images, labels = batch["image"], batch["label"]
        noise = batch["noise"]  # [batch, passes, n_z], drawn in the pipeline

        # Discriminator: labeled, generated and unlabeled batches
        with tf.GradientTape() as tape:
            fake_images = self.generator(noise[:, 0], training=True)
            passes = self._discriminate([images, fake_images] + (
                [batch["unlabeled"]] if self.semi_supervised else []))
            labeled_logits, fake_logits = passes[0][1], passes[1][1]
            unlabeled_logits = passes[2][1] if self.semi_supervised else None
            real_term, fake_term = self.objective.discriminator(
                labeled_logits, labels, unlabeled_logits, fake_logits)
            d_loss = self._average(real_term + fake_term)
            scaled_d_loss = self._scaled(self.d_optimizer, d_loss)
        self._apply(self.d_optimizer, tape, scaled_d_loss,
                    self.discriminator.trainable_variables)

        # Generator: each update on fresh noise
        g_loss = tf.constant(0.0)
        fm_images = batch.get("unlabeled_g", batch["unlabeled"])
        for index in range(self.g_updates):
            g_loss = self._generator_update(noise[:, 1 + index], images,
                                            fm_images)

        # Metrics, as sums over this replica's examples
        supervised = losses.supervised_loss(labeled_logits, labels,
                                            self.num_class)
        predicted = tf.argmax(labeled_logits[:, :self.num_class], -1,
                              output_type=tf.int32)
        correct = tf.cast(tf.equal(predicted, tf.cast(labels, tf.int32)),
                          tf.float32)
        scale = tf.cast(self.global_batch, tf.float32)
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
        metrics = {name: tf.constant(0.0) for name in METRICS}
        for _ in tf.range(num_steps):
            batch = next(iterator)
            per_replica = self.strategy.run(self._replica_step, args=(batch,))
            if self.ema is not None:
                self.ema.update()
            summed = {name: self.strategy.reduce(tf.distribute.ReduceOp.SUM,
                                                 value, axis=None)
                      for name, value in per_replica.items()}
            metrics = {name: value / self.global_batch
                       for name, value in summed.items()}
            metrics["GAN_loss"] = metrics["d_loss"] + metrics["g_loss"]
            metrics["recon_weight"] = tf.zeros([]) if \
                self.objective.generator is None else \
                self.objective.generator.recon_weight(self.d_optimizer.iterations)
        return metrics
