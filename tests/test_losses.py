"""Every loss against values worked out by hand (comments show the working)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf import losses

LN2, LN3 = math.log(2.0), math.log(3.0)
# logits [ln 2, 0, 0] with N = 2 real classes: softmax = [1/2, 1/4, 1/4]
LOGITS = tf.constant([[LN2, 0.0, 0.0]])


def close(value, expected):
    np.testing.assert_allclose(np.asarray(value), expected, rtol=1e-5, atol=1e-6)


def test_d_loss_real_targets_the_label_with_zero_on_fake():
    close(losses.d_loss_real(LOGITS, [0]), [LN2])              # -log 1/2
    close(losses.d_loss_real(LOGITS, [1]), [math.log(4.0)])    # -log 1/4
    close(losses.d_loss_real(tf.zeros([1, 3]), [1]), [LN3])    # -log 1/3


def test_d_loss_fake_uses_one_sided_label_smoothing():
    # target [0.05, 0.05, 0.9] (alpha 0.9, (1 - 0.9) / 2 on each real class):
    # -(0.9 log 1/4 + 0.05 log 1/2 + 0.05 log 1/4)
    expected = -(0.9 * math.log(0.25) + 0.05 * math.log(0.5)
                 + 0.05 * math.log(0.25))
    close(losses.d_loss_fake(LOGITS, 0.9), [expected])
    close(losses.d_loss_fake(LOGITS, 1.0), [math.log(4.0)])   # no smoothing


def test_d_loss_unlabeled_is_minus_log_of_real_mass():
    close(losses.d_loss_unlabeled(LOGITS), [-math.log(0.75)])  # 1/2 + 1/4 real


def test_generator_loss_is_log_probability_of_fake():
    close(losses.g_loss_fake_class(LOGITS), [math.log(0.25)])


def test_supervised_loss_ignores_the_fake_logit():
    # over the real logits [ln 2, 0]: softmax [2/3, 1/3]
    close(losses.supervised_loss(tf.constant([[LN2, 0.0, 50.0]]), [1], 2), [LN3])


def test_huber_per_example():
    real = tf.zeros([2, 1, 2, 1])
    fake = tf.constant([[[[0.5], [2.0]]], [[[0.0], [0.0]]]])
    # |d| = 0.5 -> 0.5 * 0.25 = 0.125; |d| = 2 -> 1 * (2 - 0.5) = 1.5; mean
    close(losses.huber(real, fake), [(0.125 + 1.5) / 2, 0.0])


@pytest.mark.parametrize("step, expected", [(0, 10.0), (750, 5.0),
                                            (1500, 0.0), (3000, 0.0)])
def test_recon_weight_anneals_linearly(step, expected):
    close(losses.recon_weight(step, 10.0, 1500), expected)


def test_improved_gan_unlabeled_and_fake_terms():
    # Z = e^0 + e^0 = 2, D = Z / (Z + 1) = 2/3:
    # -log D = log 3/2, -log(1 - D) = log 3; each weighted 1/2
    unlabeled, fake = losses.improved_gan_unlabeled(tf.zeros([1, 2]),
                                                    tf.zeros([1, 2]))
    close(unlabeled, [0.5 * (LN3 - LN2)])
    close(fake, [0.5 * LN3])


def test_improved_gan_is_stable_for_extreme_logits():
    unlabeled, fake = losses.improved_gan_unlabeled(
        tf.constant([[1000.0, 1000.0], [-1000.0, -1000.0]]),
        tf.constant([[-1000.0, -1000.0], [1000.0, 1000.0]]))
    # D(x_unl) -> 1 then 0: -log D -> 0 then ~1000 - log 2; fake mirrored
    close(unlabeled, [0.0, 0.5 * (1000.0 - LN2)])
    close(fake, [0.0, 0.5 * (1000.0 + LN2)])


def test_feature_matching_is_squared_distance_of_means():
    real = tf.constant([[1.0, 2.0], [3.0, 4.0]])   # mean [2, 3]
    fake = tf.constant([[0.0, 0.0], [2.0, 2.0]])   # mean [1, 1]
    close(losses.feature_matching(real, fake), 1.0 + 4.0)
    close(losses.feature_matching(real, fake, "mean"), (1.0 + 4.0) / 2)
    with pytest.raises(ValueError, match="reduction"):
        losses.feature_matching(real, fake, "max")


def test_sgan_losses():
    real, fake = losses.sgan_real_fake(tf.constant([[0.0], [LN3]]),
                                       tf.constant([[0.0], [-LN3]]))
    # sigma(ln 3) = 3/4: -log 3/4 ; generated: -log(1 - sigma(-ln 3)) = -log 3/4
    close(real, [LN2, -math.log(0.75)])
    close(fake, [LN2, -math.log(0.75)])
    close(losses.sgan_generator(tf.constant([[0.0]])), [LN2])
