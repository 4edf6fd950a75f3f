"""Generators and discriminators: the original repository's, the Improved-GAN
paper's and Odena's SGAN. `build(model, image_shape, num_class, n_z, ...)`
picks one."""


def build(model, image_shape, num_class, n_z, norm_type="batch",
          deconv_type="bilinear", sync_batch_norm=False, d_noise="fresh"):
    """Returns (generator, discriminator) for `model` (a --model value).
    `d_noise` (`fresh` or `table`) only concerns the improved_gan MNIST
    discriminator's training noise."""
    if model == "original":
        from ssgan_tf.models import original
        return (original.Generator(image_shape, n_z, norm_type, deconv_type,
                                   sync_batch_norm),
                original.Discriminator(image_shape, num_class, norm_type,
                                       sync_batch_norm))
    if model == "improved_gan":
        from ssgan_tf.models import improved_gan
        return improved_gan.build(image_shape, num_class, n_z, d_noise)
    if model == "sgan":
        from ssgan_tf.models import sgan
        return (sgan.Generator(image_shape, n_z),
                sgan.Discriminator(image_shape, num_class))
    raise ValueError(f"unknown model {model!r}")
