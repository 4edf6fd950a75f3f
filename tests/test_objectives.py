"""Each objective's discriminator and generator loss against values worked out
by hand, and which objective a config chooses."""

import math

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf import objectives
from ssgan_tf.config import Config

LN2, LN3 = math.log(2.0), math.log(3.0)


def close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-5,
                               atol=1e-6)


def logits(*rows):
    return tf.constant(rows, tf.float32)


def test_original_discriminator_smooths_the_fake_target():
    loss = objectives.OriginalD(num_class=2, label_smoothing_alpha=0.9)
    zeros = logits([0.0, 0.0, 0.0])
    # real: -log(1/3) for the labeled image, -log(2/3) for the unlabeled one;
    # fake: -(0.9 log(1/3) + 2 * 0.05 log(1/3)) = log 3
    real, fake = loss(zeros, tf.constant([0]), zeros, zeros)
    close(real, [LN3 + math.log(1.5)])
    close(fake, [LN3])
    real, _ = loss(zeros, tf.constant([0]), None, zeros)
    close(real, [LN3])


def test_improved_gan_discriminator_fixes_the_fake_logit_at_zero():
    loss = objectives.ImprovedGanD(num_class=2)
    labeled = logits([LN3, 0.0, 0.0])  # the N + 1-th logit is the fixed 0
    zeros = logits([0.0, 0.0, 0.0])
    # supervised -log(3/4); unlabeled Z = 2: 0.5 (log 3 - log 2);
    # fake: 0.5 log(1 + Z) = 0.5 log 3
    real, fake = loss(labeled, tf.constant([0]), zeros, zeros)
    close(real, [math.log(4 / 3) + 0.5 * (LN3 - LN2)])
    close(fake, [0.5 * LN3])
    # every image labeled: the labeled batch plays the unlabeled one (Z = 4)
    real, _ = loss(labeled, tf.constant([0]), None, zeros)
    close(real, [math.log(4 / 3) + 0.5 * (math.log(5) - math.log(4))])


def test_sgan_discriminator_adds_the_real_fake_head():
    loss = objectives.SganD(num_class=2)
    real, fake = loss(logits([0.0, 0.0, 0.0]), tf.constant([1]),
                      logits([0.0, 0.0, 2.0]), logits([0.0, 0.0, -1.0]))
    # CE log 2, BCE on s = 2 as real: log(1 + e^-2); s = -1 as fake: log(1 + e^-1)
    close(real, [LN2 + math.log1p(math.exp(-2.0))])
    close(fake, [math.log1p(math.exp(-1.0))])


def test_supervised_discriminator_sees_the_labels_alone():
    real, fake = objectives.SupervisedD(num_class=2)(
        logits([0.0, 0.0, 5.0]), tf.constant([0]), logits([9.0, 0.0, 0.0]),
        logits([1.0, 2.0, 3.0]))
    close(real, [LN2])
    close(fake, [0.0])


def test_fake_class_generator_adds_the_annealed_reconstruction():
    loss = objectives.FakeClassG(num_class=2, global_batch=2,
                                 recon_weight_scale=10.0,
                                 recon_anneal_steps=100)
    real, fake = tf.zeros([1, 2, 2, 1]), tf.fill([1, 2, 2, 1], 0.5)
    # log p(fake) = log(1/3); Huber of 0.5 is 0.125; weight 10 at step 0,
    # 5 at step 50; one example over a global batch of 2
    at_start = loss(tf.constant(0), logits([0.0, 0.0, 0.0]), None, None, real,
                    fake)
    close(at_start, (-LN3 + 10 * 0.125) / 2)
    halfway = loss(tf.constant(50), logits([0.0, 0.0, 0.0]), None, None,
                   real, fake)
    close(halfway, (-LN3 + 5 * 0.125) / 2)
    close(loss.recon_weight(tf.constant(150)), 0.0)


@pytest.mark.parametrize("reduction, distance", [("sum", 13.0),
                                                 ("mean", 6.5)])
def test_feature_matching_generator_shares_the_distance_among_replicas(
        reduction, distance):
    # (In the default replica context the all-reduce of the replicas' sums
    # is this context's own sum: the rows stand for the global batch.)
    loss = objectives.FeatureMatchingG(replicas=2, global_batch=2,
                                       reduction=reduction)
    real = tf.constant([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = tf.zeros([2, 2])
    # (2^2 + 3^2) summed or averaged, half of it on each of 2 replicas
    close(loss(tf.constant(0), None, fake, real, None, None), distance / 2)
    assert loss.uses_real_features


def test_sgan_generator_is_the_non_saturating_loss_of_its_head():
    loss = objectives.SganG(num_class=2, global_batch=1)
    close(loss(tf.constant(0), logits([3.0, -1.0, 0.0]), None, None, None,
               None), LN2)


@pytest.mark.parametrize("settings, d_type, g_type", [
    ({}, objectives.OriginalD, objectives.FakeClassG),
    ({"g_loss": "feature_matching"}, objectives.OriginalD,
     objectives.FeatureMatchingG),
    ({"model": "improved_gan", "d_loss": "improved_gan",
      "g_loss": "feature_matching"}, objectives.ImprovedGanD,
     objectives.FeatureMatchingG),
    ({"model": "sgan"}, objectives.SganD, objectives.SganG),
    ({"d_loss": "supervised"}, objectives.SupervisedD, type(None))])
def test_the_config_chooses_the_objective_once(settings, d_type, g_type):
    objective = objectives.build(Config(**settings), 10, 1)
    assert isinstance(objective.discriminator, d_type)
    assert isinstance(objective.generator, g_type)


def test_the_paper_details_reach_the_objective():
    objective = objectives.build(Config.from_preset("mnist_100"), 10, 2)
    assert objective.generator == objectives.FeatureMatchingG(2, 100, "mean")
