"""Generators and discriminators: the original repository's, the Improved-GAN
paper's and Odena's SGAN. `build(model, image_shape, num_class, n_z, ...)`
picks one."""

from ssgan_tf.models import improved_gan, original, sgan


def network_version(model, image_shape) -> int:
    """The version of `model`'s networks for `image_shape`: a checkpoint's
    weights belong to the version that trained them. 2: the improved_gan
    32x32 networks padded as the paper's code; 1: everything else."""
    return 2 if model == "improved_gan" and tuple(image_shape)[:2] == (32, 32) \
        else 1


def build(model, image_shape, num_class, n_z, norm_type="batch",
          deconv_type="bilinear", sync_batch_norm=False, g_bn_scale=True,
          d_init="unit", d_width=96):
    """Returns (generator, discriminator) for `model` (a --model value).
    `d_init` (`unit` or `data`) only concerns the improved_gan MNIST
    discriminator, `g_bn_scale` the improved_gan generators and `d_width`
    the improved_gan 32x32 discriminator (models/improved_gan.py)."""
    if model == "original":
        return (original.Generator(image_shape, n_z, norm_type, deconv_type,
                                   sync_batch_norm),
                original.Discriminator(image_shape, num_class, norm_type,
                                       sync_batch_norm))
    if model == "improved_gan":
        return improved_gan.build(image_shape, num_class, n_z, g_bn_scale,
                                  d_init, d_width, sync_batch_norm)
    if model == "sgan":
        return (sgan.Generator(image_shape, n_z, sync_batch_norm),
                sgan.Discriminator(image_shape, num_class, sync_batch_norm))
    raise ValueError(f"unknown model {model!r}")
