"""Generators and discriminators: the original repository's, the Improved-GAN
paper's and Odena's SGAN. `build(config, image_shape, num_class)` picks one."""


def build(model, image_shape, num_class, n_z, norm_type="batch",
          deconv_type="bilinear", sync_batch_norm=False):
    """Returns (generator, discriminator) for `model` (a --model value)."""
    if model == "original":
        from ssgan_tf.models import original
        return (original.Generator(image_shape, n_z, norm_type, deconv_type,
                                   sync_batch_norm),
                original.Discriminator(image_shape, num_class, norm_type,
                                       sync_batch_norm))
    if model == "improved_gan":
        from ssgan_tf.models import improved_gan
        return improved_gan.build(image_shape, num_class, n_z)
    if model == "sgan":
        from ssgan_tf.models import sgan
        return (sgan.Generator(image_shape, n_z),
                sgan.Discriminator(image_shape, num_class))
    raise ValueError(f"unknown model {model!r}")
