"""What the paper's MNIST networks look like at each checkpoint of a run.

    python benchmarks/divergence.py RUN_DIR [--dataset_dir DIR] [--out FILE]

For a run of `--preset mnist_100` (or any run of `--model improved_gan` on
28x28x1 images) with checkpoints every few hundred steps, prints and writes as
JSON, per checkpoint, on 500 training images and 500 generated ones:

- `fm`: the feature-matching loss (training-mode discriminator, its noise on;
  summed over the features whatever the run's `--fm_reduction`, so runs
  compare: a `mean` run trained on 1/250 of it),
  `g_grad_norm`: the norm of its gradient for the generator (before any
  `--clip_norm`), `d_grad_norm`: the norm of the discriminator's unlabeled-loss
  gradient (medians over 5 batches of 100);
- `lse_real`, `lse_fake`: mean log Z (logsumexp of the real-class logits) on
  real and generated images; D(x) = Z / (Z + 1), so large positive means
  "surely real", large negative "surely generated";
- `feat_real`, `feat_fake`: the mean of the matched features (last hidden
  layer, noise off);
- `saturated`: the fraction of the generator's sigmoid inputs beyond +-6
  (sigmoid slope below 0.0025), `sigmoid_input_std` their spread, `g_scale`
  the mean weight-norm scale of its output layer.

This is how benchmarks/ACCURACY.md's account of the preset's divergence
episodes was measured: the discriminator grows confident on real and generated
images alike, the matched features grow, and the loss runs from about 100 to
10,000+.
"""

import argparse
import glob
import json
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from ssgan_tf import losses, models  # noqa: E402
from ssgan_tf.data import format as data_format, pipeline  # noqa: E402
from ssgan_tf.errors import UserError  # noqa: E402
from ssgan_tf import checkpoint as ckpt_lib  # noqa: E402

SAMPLES, BATCH, BATCHES = 500, 100, 5


def checkpoints(run_dir):
    found = []
    for index in glob.glob(os.path.join(run_dir, "model-*.index")):
        match = re.search(r"model-(\d+)\.index$", index)
        if match:
            found.append((int(match.group(1)), index[:-len(".index")]))
    if not found:
        raise UserError(f"{run_dir}: no model-<step> checkpoint in the folder")
    return sorted(found)


def norm(gradients):
    return float(tf.linalg.global_norm([g for g in gradients if g is not None]))


def measure(generator, discriminator, images, rng):
    z = tf.constant(rng.uniform(-1, 1, (SAMPLES, generator.n_z)), tf.float32)
    pre = generator.pixel_logits(z, training=True)
    fake = generator(z, training=True)
    real = tf.constant(images[:SAMPLES])
    feat_fake, logits_fake = discriminator.features_and_logits(fake)
    feat_real, logits_real = discriminator.features_and_logits(real)
    fms, g_norms, d_norms = [], [], []
    for _ in range(BATCHES):
        pick = rng.choice(len(images), BATCH, replace=False)
        batch = tf.constant(images[pick])
        z = tf.constant(rng.uniform(-1, 1, (BATCH, generator.n_z)), tf.float32)
        with tf.GradientTape() as tape:
            generated = generator(z, training=True)
            fake_features, _ = discriminator.features_and_logits(
                generated, training=True)
            real_features, _ = discriminator.features_and_logits(
                batch, training=True)
            fm = losses.feature_matching(tf.stop_gradient(real_features),
                                         fake_features)
        fms.append(float(fm))
        g_norms.append(norm(tape.gradient(fm, generator.trainable_variables)))
        with tf.GradientTape() as tape:
            _, fake_logits = discriminator.features_and_logits(
                tf.stop_gradient(generated), training=True)
            _, real_logits = discriminator.features_and_logits(batch,
                                                               training=True)
            unlabeled, generated_term = losses.improved_gan_unlabeled(
                real_logits, fake_logits)
            d_loss = tf.reduce_mean(unlabeled + generated_term)
        d_norms.append(norm(tape.gradient(
            d_loss, discriminator.trainable_variables)))
    lse = lambda logits: float(tf.reduce_mean(  # noqa: E731
        tf.reduce_logsumexp(logits, axis=-1)))
    return {"fm": float(np.median(fms)),
            "g_grad_norm": float(np.median(g_norms)),
            "d_grad_norm": float(np.median(d_norms)),
            "lse_real": lse(logits_real), "lse_fake": lse(logits_fake),
            "feat_real": float(tf.reduce_mean(feat_real)),
            "feat_fake": float(tf.reduce_mean(feat_fake)),
            "saturated": float(np.mean(np.abs(pre.numpy()) > 6.0)),
            "sigmoid_input_std": float(np.std(pre.numpy())),
            "g_scale": float(np.mean(np.abs(generator.out.g.numpy())))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--dataset_dir", default=None,
                        help="where the run's dataset lives (default: the "
                             "run's own --dataset_dir)")
    parser.add_argument("--out", default=None,
                        help="JSON file (default: RUN_DIR/divergence.json)")
    args = parser.parse_args()
    try:
        if not os.path.isdir(args.run_dir):
            raise UserError(f"{args.run_dir}: no such folder")
        info = ckpt_lib.read_run_info(args.run_dir)
        if not info:
            raise UserError(f"{args.run_dir}: no config.json (not a run folder)")
        config = info["config"]
        if config["model"] != "improved_gan" or \
                list(info["data"]["image_shape"]) != [28, 28, 1]:
            raise UserError(f"{args.run_dir}: not a --model improved_gan run "
                            f"on 28x28x1 images")
        found = checkpoints(args.run_dir)
        dataset = data_format.load_split(
            args.dataset_dir or config["dataset_dir"], config["dataset"],
            "train")
    except UserError as error:
        sys.exit(f"error: {error}")
    images = pipeline.scale_images(np.asarray(dataset.images)).numpy()
    generator, discriminator = models.build(
        "improved_gan", (28, 28, 1), info["data"]["num_class"], config["n_z"],
        g_bn_scale=config.get("g_bn_scale", True))
    generator(tf.zeros([2, config["n_z"]]))
    discriminator(tf.zeros([2, 28, 28, 1]))
    checkpoint = tf.train.Checkpoint(generator=generator,
                                     discriminator=discriminator)
    rows = []
    for step, prefix in found:
        checkpoint.restore(prefix).expect_partial()
        row = dict(step=step, **measure(generator, discriminator, images,
                                        np.random.RandomState(0)))
        rows.append(row)
        print(f"step {step:6d}  fm {row['fm']:9.1f}  |grad G| "
              f"{row['g_grad_norm']:8.1f}  |grad D| {row['d_grad_norm']:6.3f}  "
              f"log Z real {row['lse_real']:6.2f} fake {row['lse_fake']:7.2f}  "
              f"features real {row['feat_real']:5.2f} fake "
              f"{row['feat_fake']:5.2f}  saturated {row['saturated']:.2f} "
              f"(std {row['sigmoid_input_std']:5.1f}, scale "
              f"{row['g_scale']:.2f})", flush=True)
    out = args.out or os.path.join(args.run_dir, "divergence.json")
    with open(out, "w") as f:
        json.dump({"run_dir": args.run_dir, "checkpoints": rows}, f, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
