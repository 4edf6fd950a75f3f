"""The paper's setups (Salimans et al. 2016), one named configuration each.

A preset is a set of Config values; `--preset NAME` (or
`Config.from_preset(NAME)`) applies them over the defaults and explicit flags
still win. The fields marked "detail" are not flags: they are how the paper's
code runs its networks, and a preset is the place to set them.

What all three share with the paper: Adam beta1 0.5, batch 100, feature
matching, a weight average of D for evaluation, and no gradient clipping (the
paper's code has none). The 32x32 presets' learning rates are constant and
then linear to 0 over the last third, as the paper's code; its MNIST code
trains at a constant rate, and ours decays over the last third too, on
purpose: a decayed schedule ends higher than a constant rate three times as
long. The 32x32 schedules are in epochs (`epochs`), so they are right for
any dataset size.
"""

from typing import Any, Dict, Optional

MNIST_100 = dict(
    dataset="MNIST", num_labeled=100, batch_size=100, n_z=100,
    model="improved_gan", d_loss="improved_gan", g_loss="feature_matching",
    # The generator at a third of D's rate, as Dai et al. 2017 ("Bad GAN")
    # train these networks: it learned faster and ended higher than at 0.003.
    learning_rate_g=0.001, learning_rate_d=0.003,
    lr_decay_fraction=1 / 3, max_training_steps=60000,
    ema_decay=0.999, clip_norm=0.0,
    # XLA fuses the step's many small element-wise ops: faster on a CPU, and
    # it lets a second core help more.
    jit_compile=True,
    # details of the paper's MNIST code
    d_init="data",            # weight norm's data-dependent initialization
    g_bn_scale=False,         # the generator's batch norms have no scale
    fm_reduction="mean",      # feature matching averages over the features
    fm_separate_batch=True,   # G's real features from an unlabeled batch of its own
    adam_epsilon=1e-4,        # Theano's 1e-8 under the square root
)

# The 32x32 presets follow the paper's code detail by detail: where this
# project's MNIST preset differs from the paper it was measured there, and
# nothing has been measured on SVHN or CIFAR-10 to justify a difference.
_PAPER_32X32 = dict(
    batch_size=100, n_z=100,
    model="improved_gan", d_loss="improved_gan", g_loss="feature_matching",
    learning_rate_g=3e-4, learning_rate_d=3e-4,
    lr_decay_fraction=1 / 3,  # constant, then linear to 0 over the last third
    ema_decay=0.9999, clip_norm=0.0,
    test_sample_step=0,       # test once per epoch, as the paper's code
    g_bn_scale=False,         # the generator's batch norms have no scale
    fm_reduction="abs_mean",  # feature matching: mean absolute difference
    fm_separate_batch=True,   # G's real features from their own permutation
    adam_epsilon=1e-4,        # Theano's 1e-8 under the square root ...
    adam_epsilon_form="paper",  # ... of the bias-corrected second moment
)

# 900 epochs of the 73,257 training images: 658,800 steps at batch 100.
SVHN_1000 = dict(_PAPER_32X32, dataset="SVHN", num_labeled=1000, epochs=900,
                 d_width=64)

# 1,200 epochs of the 50,000 training images: 600,000 steps at batch 100.
CIFAR10_4000 = dict(_PAPER_32X32, dataset="CIFAR10", num_labeled=4000,
                    epochs=1200, d_width=96)

# A user's own data: the recipe of the paper's setup of its shape, without
# the dataset, its label count and its length. Length in epochs: the MNIST
# schedule is 100 epochs of its 60,000 images; the SVHN one 900. Tested once
# an epoch.
OWN_28X28 = dict({k: v for k, v in MNIST_100.items()
                  if k not in ("dataset", "num_labeled", "max_training_steps")},
                 epochs=100, test_sample_step=0)
OWN_32X32 = dict(_PAPER_32X32, epochs=900, d_width=64)

PRESETS: Dict[str, Dict[str, Any]] = {
    "mnist_100": MNIST_100,
    "svhn_1000": SVHN_1000,
    "cifar10_4000": CIFAR10_4000,
    "own_28x28": OWN_28X28,
    "own_32x32": OWN_32X32,
}


def for_shape(image_shape) -> Optional[str]:
    """The own-data preset for images of `image_shape` (h, w, c): the paper's
    networks exist for 28x28 grey and 32x32 images only."""
    height, width, channels = tuple(image_shape)
    if (height, width, channels) == (28, 28, 1):
        return "own_28x28"
    if (height, width) == (32, 32):
        return "own_32x32"
    return None
