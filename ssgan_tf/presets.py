"""The paper's setups (Salimans et al. 2016), one named configuration each.

A preset is a set of Config values; `--preset NAME` (or
`Config.from_preset(NAME)`) applies them over the defaults and explicit flags
still win. The fields marked "detail" are not flags: they are how the paper's
code runs its networks, and a preset is the place to set them.

What all three share with the paper: Adam beta1 0.5, batch 100, the learning
rates constant and then linear to 0 over the last third, feature matching, a
weight average of D for evaluation, and no gradient clipping (the paper's code
has none).
"""

from typing import Any, Dict

MNIST_100 = dict(
    dataset="MNIST", num_labeled=100, batch_size=100, n_z=100,
    model="improved_gan", d_loss="improved_gan", g_loss="feature_matching",
    # The generator at a third of D's rate, as Dai et al. 2017 ("Bad GAN")
    # train these networks: it learned faster and ended higher than at 0.003.
    learning_rate_g=0.001, learning_rate_d=0.003,
    lr_decay_fraction=1 / 3, max_training_steps=60000,
    ema_decay=0.999, clip_norm=0.0,
    # details of the paper's MNIST code
    d_init="data",            # weight norm's data-dependent initialization
    g_bn_scale=False,         # the generator's batch norms have no scale
    fm_reduction="mean",      # feature matching averages over the features
    fm_separate_batch=True,   # G's real features from an unlabeled batch of its own
    adam_epsilon=1e-4,        # Theano's 1e-8 under the square root
)

SVHN_1000 = dict(
    dataset="SVHN", num_labeled=1000, batch_size=100, n_z=100,
    model="improved_gan", d_loss="improved_gan", g_loss="feature_matching",
    learning_rate_g=3e-4, learning_rate_d=3e-4,
    lr_decay_fraction=1 / 3, max_training_steps=120000,
    ema_decay=0.9999, clip_norm=0.0,
)

CIFAR10_4000 = dict(
    dataset="CIFAR10", num_labeled=4000, batch_size=100, n_z=100,
    model="improved_gan", d_loss="improved_gan", g_loss="feature_matching",
    learning_rate_g=3e-4, learning_rate_d=3e-4,
    lr_decay_fraction=1 / 3, max_training_steps=120000,
    ema_decay=0.9999, clip_norm=0.0,
)

PRESETS: Dict[str, Dict[str, Any]] = {
    "mnist_100": MNIST_100,
    "svhn_1000": SVHN_1000,
    "cifar10_4000": CIFAR10_4000,
}
