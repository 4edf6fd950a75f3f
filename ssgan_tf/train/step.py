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

METRICS = ("d_loss", "d_loss_real", "d_loss_fake", "g_loss", "S_loss",
           "accuracy", "GAN_loss", "recon_weight")


def with_fake_logit(logits, num_class):
    """N + 1 logits: the Improved-GAN networks' N, with the fake logit fixed at
    0 (the original networks already have N + 1)."""
    if logits.shape[-1] == num_class + 1:
        return logits
    return tf.concat([logits, tf.zeros_like(logits[:, :1])], axis=-1)


def extra_update(config) -> bool:
    """Whether a step may make one more, conditional, generator update."""
    return config.g_loss == "feature_matching" and \
        config.g_extra_update_above > 0 and config.d_loss != "supervised" \
        and config.model != "sgan"


def noise_passes(config) -> int:
    """Generator passes per step, each with its own noise: one for the D
    update, then one per further G update (and one for the conditional extra
    update)."""
    return 1 + config.update_rate - int(config.g_shares_d_pass) + int(
        extra_update(config))


class TrainStep:
    """Builds the per-replica step and the multi-step tf.function.

    Args:
      config: the run's Config.
      strategy: the tf.distribute strategy the models were built under.
      generator, discriminator: Keras models; the discriminator provides
        `features_and_logits(images, training)`.
      g_optimizer, d_optimizer: one Adam per network.
      num_class: N, the number of real classes.
      semi_supervised: whether the unlabeled stream differs from the labeled one
        (only then does D see the unlabeled batch).
      ema: an optional EMA object with `update()`, run after each step.
    """

    def __init__(self, config, strategy, generator, discriminator, g_optimizer,
                 d_optimizer, num_class, semi_supervised, ema=None):
        self.config = config
        self.strategy = strategy
        self.generator = generator
        self.discriminator = discriminator
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
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

    def _recon_weight(self):
        """The annealed reconstruction weight at D's current step."""
        return losses.recon_weight(self.d_optimizer.iterations,
                                   self.config.recon_weight_scale,
                                   self.config.recon_anneal_steps)

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

    def _generator_loss(self, images, real_features, fake_images,
                        fake_features, fake_logits, weight):
        """The generator's loss on this replica, scaled for the global batch."""
        if self.config.model == "sgan":
            return self._average(losses.sgan_generator(
                fake_logits[:, self.num_class]))
        if self.config.g_loss == "feature_matching":
            # A distance between batch means is not a sum over examples: each
            # replica contributes 1/replicas of it.
            return losses.feature_matching(
                tf.stop_gradient(real_features), fake_features,
                self.config.fm_reduction) / tf.cast(
                    self.strategy.num_replicas_in_sync, tf.float32)
        per_example = losses.g_loss_fake_class(
            with_fake_logit(fake_logits, self.num_class))
        per_example += weight * losses.huber(images, fake_images)
        return self._average(per_example)

    def _discriminator_terms(self, real_logits, labels, unlabeled_logits,
                             fake_logits):
        """Per-example D losses: (on real images, on generated images).

        `unlabeled_logits` is None when every training image is labeled; the
        labeled batch then plays the unlabeled one where a loss needs it.
        """
        config, num_class = self.config, self.num_class
        if config.model == "sgan":  # two heads: N classes, then real/fake
            real_or_unlabeled = real_logits if unlabeled_logits is None else \
                unlabeled_logits
            unlabeled_term, fake_term = losses.sgan_real_fake(
                real_or_unlabeled[:, num_class], fake_logits[:, num_class])
            return (losses.supervised_loss(real_logits, labels, num_class)
                    + unlabeled_term, fake_term)
        if config.d_loss == "supervised":  # the baseline: labels alone
            return (losses.supervised_loss(real_logits, labels, num_class),
                    tf.zeros_like(fake_logits[:, 0]))
        if config.d_loss == "original":
            real_term = losses.d_loss_real(real_logits, labels)
            if unlabeled_logits is not None:
                real_term += losses.d_loss_unlabeled(unlabeled_logits)
            return real_term, losses.d_loss_fake(fake_logits,
                                                 config.label_smoothing_alpha)
        # improved_gan: the fake logit is fixed at 0
        unlabeled_term, fake_term = losses.improved_gan_unlabeled(
            (real_logits if unlabeled_logits is None else
             unlabeled_logits)[:, :num_class], fake_logits[:, :num_class])
        return (losses.supervised_loss(real_logits, labels, num_class)
                + unlabeled_term, fake_term)

    def _generator_update(self, z, images, unlabeled, weight):
        """One G update on noise `z`; returns its (unscaled) loss."""
        generator = self.generator
        with tf.GradientTape() as g_tape:
            fake_images = generator(z, training=True)
            fake_features, fake_logits = self._discriminate([fake_images])[0]
            real_features = None
            if self.config.g_loss == "feature_matching":
                # Both means from the discriminator as it is now, after its
                # update (the batch is the unlabeled one). The real side is a
                # constant of the G update: left off the tape, its backward
                # pass is not computed at all.
                with g_tape.stop_recording():
                    real_features = self._discriminate([unlabeled])[0][0]
            g_loss = self._generator_loss(images, real_features, fake_images,
                                          fake_features, fake_logits, weight)
            scaled_g_loss = self._scaled(self.g_optimizer, g_loss)
        self._apply(self.g_optimizer, g_tape, scaled_g_loss,
                    generator.trainable_variables)
        return g_loss

    def replica_step(self, batch):
        """One D update and `update_rate` G updates on this replica's batch.

        By default the updates alternate as in the original: D first, then
        each G update on fresh noise against the updated D. With
        `g_shares_d_pass` the first G update reuses the D update's generated
        batch (both gradients from one forward pass, as in TensorFlow's DCGAN
        tutorial), which saves one generator forward pass; that update's real
        features are then the D pass's own (on its unlabeled batch).

        Returns:
          Sums over this replica's examples of each metric (divided by the
          global batch after the cross-replica sum).
        """
        config, num_class = self.config, self.num_class
        images, labels, unlabeled = batch["image"], batch["label"], \
            batch["unlabeled"]
        noise = batch["noise"]  # [batch, passes, n_z], drawn in the pipeline
        g_loss = tf.constant(0.0)
        weight = self._recon_weight()
        generator, discriminator = self.generator, self.discriminator

        with tf.GradientTape() as d_tape, tf.GradientTape(
                watch_accessed_variables=config.g_shares_d_pass) as g_tape:
            fake_images = generator(noise[:, 0], training=True)
            batches = [images, fake_images] + (
                [unlabeled] if self.semi_supervised else [])
            passes = self._discriminate(batches)
            (real_features, real_logits), (fake_features, fake_logits) = \
                passes[:2]
            if self.semi_supervised:
                real_features, unlabeled_logits = passes[2]

            # Discriminator: labeled, unlabeled and generated batches
            real_term, fake_term = self._discriminator_terms(
                real_logits, labels,
                unlabeled_logits if self.semi_supervised else None,
                fake_logits)
            d_loss = self._average(real_term + fake_term)
            scaled_d_loss = self._scaled(self.d_optimizer, d_loss)

            if config.g_shares_d_pass:
                g_loss = self._generator_loss(images, real_features,
                                              fake_images, fake_features,
                                              fake_logits, weight)
                scaled_g_loss = self._scaled(self.g_optimizer, g_loss)
        self._apply(self.d_optimizer, d_tape, scaled_d_loss,
                    discriminator.trainable_variables)
        if config.g_shares_d_pass:
            self._apply(self.g_optimizer, g_tape, scaled_g_loss,
                        generator.trainable_variables)

        # Generator updates on fresh noise
        g_updates = 0 if config.d_loss == "supervised" else \
            config.update_rate - int(config.g_shares_d_pass)
        for index in range(g_updates):
            g_loss = self._generator_update(noise[:, 1 + index], images,
                                            self._fm_batch(batch), weight)

        # Metrics, as sums over this replica's examples
        supervised = losses.supervised_loss(real_logits, labels, num_class)
        correct = tf.cast(tf.equal(
            tf.argmax(real_logits[:, :num_class], -1, output_type=tf.int32),
            tf.cast(labels, tf.int32)), tf.float32)
        scale = tf.cast(self.global_batch, tf.float32)
        return {
            "d_loss": d_loss * scale,
            "d_loss_real": tf.reduce_sum(real_term),
            "d_loss_fake": tf.reduce_sum(fake_term),
            "g_loss": g_loss * scale,
            "S_loss": tf.reduce_sum(supervised),
            "accuracy": tf.reduce_sum(correct),
        }

    def extra_replica_step(self, batch):
        """The conditional extra G update, on the batch's last noise slot."""
        return self._generator_update(batch["noise"][:, -1], batch["image"],
                                      self._fm_batch(batch),
                                      self._recon_weight())

    @staticmethod
    def _fm_batch(batch):
        """The real images of a feature-matching G update: the batch's own
        unlabeled batch for the generator where the stream has one."""
        return batch.get("unlabeled_g", batch["unlabeled"])

    def _maybe_extra_update(self, batch, per_replica):
        """One more G update when the step's feature-matching loss (over the
        global batch) exceeds --g_extra_update_above. The decision is taken
        outside the replicas: a branch inside them could not hold the
        optimizer's cross-replica sum."""
        loss = self.strategy.reduce(tf.distribute.ReduceOp.SUM,
                                    per_replica["g_loss"], axis=None) / \
            self.global_batch

        def update():
            self.strategy.run(self.extra_replica_step, args=(batch,))
            return tf.constant(True)

        return tf.cond(loss > self.config.g_extra_update_above, update,
                       lambda: tf.constant(False))

    def _multi_step(self, iterator, num_steps):
        """Runs `num_steps` steps; returns the last step's global metrics."""
        metrics = {name: tf.constant(0.0) for name in METRICS}
        for _ in tf.range(num_steps):
            batch = next(iterator)
            per_replica = self.strategy.run(self._replica_step, args=(batch,))
            if extra_update(self.config):
                self._maybe_extra_update(batch, per_replica)
            if self.ema is not None:
                self.ema.update()
            summed = {name: self.strategy.reduce(tf.distribute.ReduceOp.SUM,
                                                 value, axis=None)
                      for name, value in per_replica.items()}
            metrics = {name: value / self.global_batch
                       for name, value in summed.items()}
            metrics["GAN_loss"] = metrics["d_loss"] + metrics["g_loss"]
            metrics["recon_weight"] = self._recon_weight() if \
                self.config.g_loss == "original" else tf.constant(0.0)
        return metrics
