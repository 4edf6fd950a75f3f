"""What each network minimizes, chosen once from the config.

An `Objective` pairs a discriminator loss with a generator loss:

    original      N + 1 softmax, one-sided label smoothing on generated images;
                  G: log p(fake) plus an annealed reconstruction term
    improved_gan  Salimans et al. 2016: N logits, the fake logit fixed at 0;
                  G: feature matching
    sgan          Odena 2016: a class head and a real/fake head (BCE + CE)
    supervised    the labeled batch alone, no GAN (the baseline)

`--d_loss` and `--g_loss` pick the two halves for the original networks, so
their combinations (the original networks with feature matching, say) stay
possible. The losses themselves are the pure functions of `losses.py`; an
objective only says which ones apply to which batch and how they are reduced.
Logits given to an objective are always N + 1 wide (`with_fake_logit`).
"""

import dataclasses
from typing import Optional

import keras
import tensorflow as tf

from ssgan_tf import losses


def with_fake_logit(logits, num_class):
    """N + 1 logits: the Improved-GAN networks' N, with the fake logit fixed at
    0 (the original networks already have N + 1)."""
    if logits.shape[-1] == num_class + 1:
        return logits
    return tf.concat([logits, tf.zeros_like(logits[:, :1])], axis=-1)


# ---------------------------------------------------------------- discriminator
# Each returns per-example losses (on real images, on generated images).
# `unlabeled_logits` is None when every training image is labeled: the
# labeled batch then plays the unlabeled one.


@dataclasses.dataclass(frozen=True)
class OriginalD:
    num_class: int
    label_smoothing_alpha: float

    def __call__(self, labeled_logits, labels, unlabeled_logits, fake_logits):
        real = losses.d_loss_real(labeled_logits, labels)
        if unlabeled_logits is not None:
            real += losses.d_loss_unlabeled(unlabeled_logits)
        return real, losses.d_loss_fake(fake_logits, self.label_smoothing_alpha)


def _supervised_plus_gan(num_class, labeled_logits, labels, unlabeled_logits,
                         fake_logits, gan_terms):
    """The N-way cross-entropy of the labeled batch plus a GAN loss on the
    unlabeled batch (the labeled one when every image is labeled) against
    the generated one; `gan_terms(real, fake)` gives the GAN loss's two
    per-example terms."""
    real = labeled_logits if unlabeled_logits is None else unlabeled_logits
    unlabeled, fake = gan_terms(real, fake_logits)
    return (losses.supervised_loss(labeled_logits, labels, num_class)
            + unlabeled, fake)


@dataclasses.dataclass(frozen=True)
class ImprovedGanD:
    num_class: int

    def __call__(self, labeled_logits, labels, unlabeled_logits, fake_logits):
        n = self.num_class
        return _supervised_plus_gan(
            n, labeled_logits, labels, unlabeled_logits, fake_logits,
            lambda real, fake: losses.improved_gan_unlabeled(real[:, :n],
                                                             fake[:, :n]))


@dataclasses.dataclass(frozen=True)
class SganD:
    """Two heads: N class logits, then one real/fake logit."""
    num_class: int

    def __call__(self, labeled_logits, labels, unlabeled_logits, fake_logits):
        n = self.num_class
        return _supervised_plus_gan(
            n, labeled_logits, labels, unlabeled_logits, fake_logits,
            lambda real, fake: losses.sgan_real_fake(real[:, n], fake[:, n]))


@dataclasses.dataclass(frozen=True)
class SupervisedD:
    num_class: int

    def __call__(self, labeled_logits, labels, unlabeled_logits, fake_logits):
        """`unlabeled_logits` and `fake_logits` are unused (and may be None:
        the step runs neither the unlabeled nor a generated batch)."""
        supervised = losses.supervised_loss(labeled_logits, labels,
                                            self.num_class)
        return supervised, tf.zeros_like(supervised)


# ---------------------------------------------------------------- generator
# Each returns this replica's share of the global loss: summed over the
# replicas it is the loss of the global batch.


@dataclasses.dataclass(frozen=True)
class FakeClassG:
    """The original's: log p(fake | G(z)) plus the annealed Huber distance
    to the labeled batch."""
    num_class: int
    global_batch: int
    recon_weight_scale: float
    recon_anneal_steps: int
    uses_real_features = False

    def recon_weight(self, step):
        return losses.recon_weight(step, self.recon_weight_scale,
                                   self.recon_anneal_steps)

    def __call__(self, step, fake_logits, fake_features, real_features,
                 real_images, fake_images):
        per_example = losses.g_loss_fake_class(fake_logits) + \
            self.recon_weight(step) * losses.huber(real_images, fake_images)
        return tf.nn.compute_average_loss(per_example,
                                          global_batch_size=self.global_batch)


def global_mean(features, global_batch: int, replicas: int):
    """The mean of `features` over the global batch, from this replica's
    rows: the replicas' sums added up (differentiable: the all-reduce's
    gradient is all-reduced too)."""
    total = tf.reduce_sum(tf.cast(features, keras.config.floatx()), axis=0)
    if replicas > 1:
        total = tf.distribute.get_replica_context().all_reduce(
            tf.distribute.ReduceOp.SUM, total)
    return total / float(global_batch)


@dataclasses.dataclass(frozen=True)
class FeatureMatchingG:
    replicas: int
    global_batch: int
    reduction: str = "sum"
    uses_real_features = True

    def recon_weight(self, step):
        return tf.zeros([], keras.config.floatx())

    def __call__(self, step, fake_logits, fake_features, real_features,
                 real_images, fake_images):
        # The distance between the global batch's means, the same on every
        # replica: each replica contributes 1/replicas of it (the gradient
        # of the all-reduce sums the replicas' shares back).
        distance = losses.feature_matching_of_means(
            global_mean(tf.stop_gradient(real_features), self.global_batch,
                        self.replicas),
            global_mean(fake_features, self.global_batch, self.replicas),
            self.reduction)
        return distance / tf.cast(self.replicas, keras.config.floatx())


@dataclasses.dataclass(frozen=True)
class SganG:
    num_class: int
    global_batch: int
    uses_real_features = False

    def recon_weight(self, step):
        return tf.zeros([], keras.config.floatx())

    def __call__(self, step, fake_logits, fake_features, real_features,
                 real_images, fake_images):
        return tf.nn.compute_average_loss(
            losses.sgan_generator(fake_logits[:, self.num_class]),
            global_batch_size=self.global_batch)


@dataclasses.dataclass(frozen=True)
class Objective:
    """The discriminator's loss and the generator's (None: G is not trained)."""
    discriminator: object
    generator: Optional[object]


def build(config, num_class: int, replicas: int) -> Objective:
    """The objective of `config`'s model, --d_loss and --g_loss."""
    batch = config.batch_size
    if config.model == "sgan":
        return Objective(SganD(num_class), SganG(num_class, batch))
    if config.d_loss == "supervised":
        return Objective(SupervisedD(num_class), None)
    if config.d_loss == "improved_gan":
        discriminator = ImprovedGanD(num_class)
    else:
        discriminator = OriginalD(num_class, config.label_smoothing_alpha)
    if config.g_loss == "feature_matching":
        generator = FeatureMatchingG(replicas, batch, config.fm_reduction)
    else:
        generator = FakeClassG(num_class, batch, config.recon_weight_scale,
                               config.recon_anneal_steps)
    return Objective(discriminator, generator)
