"""The SSGAN losses: pure functions of logits, one value per example.

Conventions: `logits` of the original networks are [batch, N + 1], the last
column the "generated" class; the Improved-GAN networks give [batch, N] and the
fake logit is fixed at 0. Labels are int class indices. Every function returns
per-example losses (shape [batch]) so the training step can scale them by the
global batch with `tf.nn.compute_average_loss`; feature matching, a distance
between batch means, is the one exception and returns a scalar.

Unlike the original, which trained D with a softmax over N + 1 classes and took
G's probability of the fake class from a sigmoid of the same logit, everything
here uses that one softmax.
"""

import keras
import tensorflow as tf


def _log_softmax(logits):
    return tf.nn.log_softmax(tf.cast(logits, keras.config.floatx()), axis=-1)


# ------------------------------------------------------------- original (N + 1)


def d_loss_real(logits, labels):
    """Cross-entropy of real labeled images: target their class, 0 on fake.

    Args:
      logits: [batch, N + 1].
      labels: [batch] int class indices in [0, N).
    """
    return tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.int32), logits=tf.cast(logits, keras.config.floatx()))


def d_loss_fake(logits, alpha):
    """Cross-entropy of generated images with one-sided label smoothing:
    target alpha on the fake class and (1 - alpha) / N on each real class."""
    log_probs = _log_softmax(logits)
    num_real = tf.cast(tf.shape(log_probs)[-1] - 1, keras.config.floatx())
    return -(alpha * log_probs[:, -1]
             + (1.0 - alpha) / num_real * tf.reduce_sum(log_probs[:, :-1], -1))


def d_loss_unlabeled(logits):
    """Unlabeled real images in the N + 1 formulation: -log(1 - p(fake)),
    i.e. -log of the probability mass on the real classes."""
    logits = tf.cast(logits, keras.config.floatx())
    return -(tf.reduce_logsumexp(logits[:, :-1], -1)
             - tf.reduce_logsumexp(logits, -1))


def g_loss_fake_class(logits):
    """The original generator loss: log p(fake | G(z)), minimized."""
    return _log_softmax(logits)[:, -1]


def supervised_loss(logits, labels, num_class):
    """N-way cross-entropy over the real classes only (the `S_loss`)."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.int32),
        logits=tf.cast(logits[:, :num_class], keras.config.floatx()))


def huber(real_images, fake_images, delta=1.0):
    """Mean Huber distance per example between two image batches."""
    diff = tf.abs(tf.cast(real_images, keras.config.floatx()) - tf.cast(fake_images,
                                                             keras.config.floatx()))
    quadratic = tf.minimum(diff, delta)
    per_pixel = 0.5 * quadratic ** 2 + delta * (diff - quadratic)
    return tf.reduce_mean(tf.reshape(per_pixel, [tf.shape(per_pixel)[0], -1]),
                          axis=-1)


def recon_weight(step, scale, anneal_steps):
    """The annealed reconstruction weight: scale * max(0, (T - step) / T)."""
    step = tf.cast(step, keras.config.floatx())
    if anneal_steps <= 0:
        return tf.zeros_like(step)
    return scale * tf.maximum(tf.zeros_like(step),
                              (anneal_steps - step) / anneal_steps)


# ------------------------------------------------------------- Improved GAN


def improved_gan_unlabeled(unlabeled_logits, fake_logits):
    """Salimans et al. 2016 with the fake logit fixed at 0.

    D(x) = Z(x) / (Z(x) + 1), Z = sum_k exp(l_k). Then
      -log D(x)       = softplus(lse) - lse
      -log(1 - D(x))  = softplus(lse)
    with lse = logsumexp of the N real logits. The paper's code weights the two
    terms by 1/2 each.

    Returns:
      (per-example loss on unlabeled images, per-example loss on generated).
    """
    lse_unlabeled = tf.reduce_logsumexp(tf.cast(unlabeled_logits, keras.config.floatx()), -1)
    lse_fake = tf.reduce_logsumexp(tf.cast(fake_logits, keras.config.floatx()), -1)
    return (0.5 * (tf.nn.softplus(lse_unlabeled) - lse_unlabeled),
            0.5 * tf.nn.softplus(lse_fake))


def feature_matching(real_features, fake_features, reduction="sum"):
    """Distance between the batch means of D's features (a scalar): the
    squared differences summed over the features (`sum`) or averaged over
    them (`mean`, the paper's MNIST code), or the absolute differences
    averaged (`abs_mean`, the paper's SVHN and CIFAR-10 code)."""
    return feature_matching_of_means(
        tf.reduce_mean(tf.cast(real_features, keras.config.floatx()), axis=0),
        tf.reduce_mean(tf.cast(fake_features, keras.config.floatx()), axis=0), reduction)


def feature_matching_of_means(real_mean, fake_mean, reduction="sum"):
    """`feature_matching` of the two batch means themselves (a scalar)."""
    if reduction == "abs_mean":
        return tf.reduce_mean(tf.abs(real_mean - fake_mean))
    squares = tf.square(real_mean - fake_mean)
    if reduction == "sum":
        return tf.reduce_sum(squares)
    if reduction == "mean":
        return tf.reduce_mean(squares)
    raise ValueError(f"unknown reduction {reduction!r}")


# ------------------------------------------------------------- SGAN (Odena 2016)


def sgan_real_fake(real_score_logits, fake_score_logits):
    """Binary cross-entropy of the real/fake head: real -> 1, generated -> 0.

    Returns:
      (per-example loss on real images, per-example loss on generated).
    """
    real = tf.reshape(tf.cast(real_score_logits, keras.config.floatx()), [-1])
    fake = tf.reshape(tf.cast(fake_score_logits, keras.config.floatx()), [-1])
    return tf.nn.softplus(-real), tf.nn.softplus(fake)


def sgan_generator(fake_score_logits):
    """The non-saturating generator loss of the real/fake head: -log sigma(s)."""
    return tf.nn.softplus(-tf.reshape(tf.cast(fake_score_logits, keras.config.floatx()),
                                      [-1]))
