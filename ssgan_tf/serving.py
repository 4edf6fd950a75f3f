"""Using a trained run: class probabilities for new images, samples from the
generator, evaluation, and a SavedModel that runs without this package.

    model = ssgan_tf.load("train_dir/<run>")      # or .../model-<step>
    probabilities = model.predict(images_uint8)     # [n, N]
    to_label = model.suggest(100)                   # what to label next
    images = model.sample(16, seed=0)               # uint8 [16, h, w, c]
    model.export("exported/")                       # tf.saved_model
"""

import os
import shutil
import tempfile
from typing import Dict, List, Optional

import numpy as np
import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib, evaluate, models
from ssgan_tf import suggest as suggest_lib
from ssgan_tf.data import format as data_format
from ssgan_tf.data import images as images_lib
from ssgan_tf.data import pipeline, splits
from ssgan_tf.errors import UserError

BATCH = 500


class TrainedModel:
    """A run's generator and classifier (the weight average where the run
    kept one: the weights evaluation uses), restored from one checkpoint."""

    def __init__(self, run_dir: str, prefix: str, info: Dict):
        config, data = info["config"], info["data"]
        self.run_dir, self.checkpoint, self.info = run_dir, prefix, info
        self.model = config["model"]
        self.image_shape = tuple(int(d) for d in data["image_shape"])
        self.num_class = int(data["num_class"])
        self.n_z = int(config["n_z"])
        self.class_names = list(data.get("class_names") or
                                [str(k) for k in range(self.num_class)])
        suffix = prefix.rsplit("-", 1)[-1]
        self.step = int(suffix) if suffix.isdigit() else 0
        self.generator, self.classifier = models.build(
            self.model, self.image_shape, self.num_class, self.n_z,
            config.get("norm_type", "batch"),
            config.get("deconv_type", "bilinear"),
            g_bn_scale=config.get("g_bn_scale", True),
            d_init=config.get("d_init", "unit"),
            d_width=config.get("d_width", 96))
        self.generator(tf.zeros([1, self.n_z]))
        self.classifier(tf.zeros((1,) + self.image_shape))
        key = "ema_discriminator" if config.get("ema_decay", 0) > 0 else \
            "discriminator"
        ckpt_lib.restore(tf.train.Checkpoint(
            generator=self.generator, **{key: self.classifier}), prefix,
            partial=True)
        self._probabilities = tf.function(self._probabilities_of,
                                          reduce_retracing=True)
        self._features = tf.function(self._features_of,
                                     reduce_retracing=True)

    def _probabilities_of(self, images):
        """uint8 images -> (softmax over the N real classes, p(real))."""
        return self._head(self.classifier(pipeline.scale_images(images),
                                          training=False))

    def _features_of(self, images):
        """uint8 images -> (D's last hidden features, probabilities, p_real)."""
        features, logits = self.classifier.features_and_logits(
            pipeline.scale_images(images), training=False)
        return (tf.cast(features, tf.float32),) + self._head(logits)

    def _head(self, logits):
        logits = tf.cast(logits, tf.float32)
        real = logits[:, :self.num_class]
        probabilities = tf.nn.softmax(real, axis=-1)
        if self.model == "improved_gan":
            # D(x) = Z / (Z + 1), Z the sum of the real classes' exp-logits
            p_real = tf.sigmoid(tf.reduce_logsumexp(real, axis=-1))
        elif self.model == "sgan":
            p_real = tf.sigmoid(logits[:, self.num_class])
        else:  # N + 1 softmax: 1 - p(generated)
            p_real = 1.0 - tf.nn.softmax(logits, axis=-1)[:, self.num_class]
        return probabilities, p_real

    def _check(self, images, resize: bool = False):
        """uint8 [n, h, w, c] of the model's shape; with `resize`, a sequence
        of images of any size (arrays, PIL images or file paths) fitted to
        it as training's conversion does (images_lib.fit)."""
        if resize:
            fitted = [images_lib.read_image(image, self.image_shape, True)
                      if isinstance(image, (str, os.PathLike))
                      else images_lib.fit_array(image, self.image_shape)
                      for image in images]
            return np.stack(fitted) if fitted else np.zeros(
                (0,) + self.image_shape, np.uint8)
        if not (hasattr(images, "shape") and hasattr(images, "dtype")):
            images = np.asarray(images)
        if images.dtype != np.uint8 or tuple(images.shape[1:]) != \
                self.image_shape:
            raise UserError(f"images must be uint8 [n, "
                            f"{', '.join(map(str, self.image_shape))}], got "
                            f"{images.dtype} {list(images.shape)}; "
                            f"resize=True fits other sizes")
        return images

    def predict_with_realness(self, images, resize: bool = False):
        """(probabilities [n, N] float32, p(real) [n] float32); `images` as
        `predict` takes them."""
        images = self._check(images, resize)
        parts = [self._probabilities(tf.constant(
            np.asarray(images[start:start + BATCH])))
            for start in range(0, len(images), BATCH)]
        if not parts:
            return (np.zeros((0, self.num_class), np.float32),
                    np.zeros(0, np.float32))
        return (np.concatenate([p.numpy() for p, _ in parts]),
                np.concatenate([r.numpy() for _, r in parts]))

    def predict(self, images, resize: bool = False) -> np.ndarray:
        """Class probabilities [n, N] of uint8 images [n, h, w, c] of the
        model's shape; with `resize=True`, of images of any size (arrays,
        PIL images or file paths), each fitted as training's conversion
        fits (scaled to cover, centre cut out: ssgan_tf.fit_image)."""
        return self.predict_with_realness(images, resize)[0]

    def suggest(self, count: int,
                dataset_dir: Optional[str] = None) -> List[Dict]:
        """`count` unlabeled training examples of the run (those without a
        label; in a dataset labeled throughout, those outside its
        labeled_ids.txt) to label next, in order
        (chosen by ssgan_tf.suggest.choose, among a sample of
        suggest.POOL where there are more): one dict each with id,
        predicted, probability, runner_up, runner_up_probability, p_real and
        image (uint8 [h, w, c]). `dataset_dir` overrides the run's."""
        if count <= 0:
            raise UserError(f"--suggest must be positive, got {count}")
        pool, labeled = self.unlabeled_examples(dataset_dir, labeled=True)
        if pool.num_unlabeled:  # what the user labeled is never offered again
            pool = pool.take(np.flatnonzero(
                np.asarray(pool.labels) == data_format.UNLABELED))
        if len(pool) > suggest_lib.POOL:  # a seeded sample bounds the work
            pool = pool.take(np.sort(np.random.RandomState(0).choice(
                len(pool), suggest_lib.POOL, replace=False)))
        features, probabilities, p_real = self._describe(pool.images)
        rows = suggest_lib.choose(features, p_real,
                                  self._describe(labeled.images)[0], count)
        predicted, top, runner_up, second = suggest_lib.margins(
            probabilities[rows])
        images = np.asarray(pool.images[rows]) if len(rows) else []
        return [{"id": pool.ids[row], "predicted": self.class_names[first],
                 "probability": float(p1),
                 "runner_up": self.class_names[other],
                 "runner_up_probability": float(p2),
                 "p_real": float(p_real[row]), "image": image}
                for row, first, p1, other, p2, image in zip(
                    rows, predicted, top, runner_up, second, images)]

    def _describe(self, images):
        """(features, probabilities, p_real) of uint8 images, in batches."""
        parts = [[t.numpy() for t in self._features(tf.constant(np.asarray(
            images[start:start + BATCH])))]
            for start in range(0, len(images), BATCH)]
        if not parts:
            width = self.classifier.features_and_logits(
                tf.zeros((1,) + self.image_shape))[0].shape[-1]
            return (np.zeros((0, width), np.float32),
                    np.zeros((0, self.num_class), np.float32),
                    np.zeros(0, np.float32))
        return tuple(np.concatenate(column) for column in zip(*parts))

    def unlabeled_examples(self, dataset_dir: Optional[str] = None,
                           labeled: bool = False):
        """The run's training examples it saw without a label (and with
        `labeled`, also those it saw with one)."""
        config = self.info["config"]
        train, _ = splits.train_and_test(
            dataset_dir or config["dataset_dir"], config["dataset"],
            config.get("max_sample", 0), run_dir=self.run_dir)
        self.check_dataset(train)
        path = os.path.join(self.run_dir, splits.LABELED_IDS_FILE)
        known = set(data_format.read_ids(path)) if os.path.isfile(path) \
            else set()
        pool = train.take([i for i, example_id in enumerate(train.ids)
                           if example_id not in known])
        if not labeled:
            return pool
        return pool, train.take([i for i, example_id in enumerate(train.ids)
                                 if example_id in known])

    def sample(self, count: int, seed: Optional[int] = None) -> np.ndarray:
        """`count` generated images, uint8 [count, h, w, c]; `seed` fixes them."""
        return to_uint8(self.sample_scaled(count, seed))

    def sample_scaled(self, count: int, seed: Optional[int] = None):
        """`count` generated images in [-1, 1], float32."""
        if count <= 0:
            raise UserError(f"--sample must be positive, got {count}")
        rng = np.random.RandomState(seed)
        z = rng.uniform(-1, 1, (count, self.n_z)).astype(np.float32)
        return np.concatenate([
            self.generator(z[start:start + BATCH], training=False).numpy()
            for start in range(0, count, BATCH)]).astype(np.float32)

    def evaluate(self, split: str = "test", dataset_dir: Optional[str] = None,
                 dataset: Optional[str] = None) -> Dict:
        """Accuracy, per-class accuracy and confusion matrix on a split of the
        training dataset (or of `dataset`, of the same shape and classes)."""
        config = self.info["config"]
        examples = data_format.load_split(
            dataset_dir or config["dataset_dir"],
            dataset or config["dataset"], split)
        self.check_dataset(examples)
        predictions = self.predict(examples.images).argmax(-1)
        result = evaluate.report(examples.labels, predictions, self.num_class,
                                 examples.class_names or self.class_names)
        result.update({"checkpoint": self.checkpoint, "step": self.step,
                       "split": split, "dataset": examples.name})
        return result

    def check_dataset(self, dataset):
        ckpt_lib.check_compatible(
            self.info, {"image_shape": list(dataset.image_shape),
                        "num_class": dataset.num_class, "model": self.model},
            self.checkpoint, dataset.name)

    def export(self, directory: str) -> str:
        """Writes a SavedModel: `serving_default` takes `images` (uint8
        [n, h, w, c] of the model's shape; fit other sizes first with
        ssgan_tf.fit_image, as training did) and returns `probabilities`
        [n, N] float32, `classes` [n] int64 and `class_names` [n] string;
        `class_list` (no input) returns the N class names in order, also
        the loaded object's `class_names`. Nothing is written unless the
        whole export succeeds."""
        if os.path.exists(directory) and (not os.path.isdir(directory)
                                          or os.listdir(directory)):
            raise UserError(f"--export {directory}: exists and is not an "
                            f"empty folder")
        names = tf.constant(self.class_names)
        classifier, num_class = self.classifier, self.num_class

        @tf.function(input_signature=[tf.TensorSpec(
            (None,) + self.image_shape, tf.uint8, name="images")])
        def serve(images):
            logits = tf.cast(classifier(pipeline.scale_images(images),
                                        training=False), tf.float32)
            probabilities = tf.nn.softmax(logits[:, :num_class], axis=-1)
            classes = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
            return {"probabilities": probabilities, "classes": classes,
                    "class_names": tf.gather(names, classes)}

        @tf.function(input_signature=[])
        def class_list():
            return {"class_names": names}

        module = tf.Module()
        module.classifier = classifier
        module.serve = serve
        module.class_list = class_list
        module.class_names = tf.Variable(names, trainable=False)
        parent = os.path.dirname(os.path.abspath(directory))
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
        try:
            tf.saved_model.save(module, staging, signatures={
                "serving_default": serve, "class_list": class_list})
            if os.path.isdir(directory):
                os.rmdir(directory)  # empty, checked above
            os.replace(staging, directory)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return directory


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats -> uint8 [0, 255]."""
    return np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).round().astype(
        np.uint8)


def load(path: str, log=print) -> TrainedModel:
    """A run folder (its newest checkpoint that reads back) or a
    `model-<step>` prefix, loaded for prediction, sampling and export."""
    run_dir, prefix = ckpt_lib.resolve_checkpoint(path, log=log)
    info = ckpt_lib.read_run_info(run_dir)
    if not info or "config" not in info or "data" not in info:
        raise UserError(f"{path}: no config.json in {run_dir}; was it written "
                        f"by trainer.py?")
    ckpt_lib.check_network_version(info, prefix)
    return TrainedModel(run_dir, prefix, info)


def top_classes(probabilities, class_names: List[str], k: int):
    """[(class name, probability)] * k per row, most probable first."""
    order = np.argsort(-probabilities, axis=-1, kind="stable")[:, :k]
    return [[(class_names[j], float(row[j])) for j in indices]
            for row, indices in zip(probabilities, order)]
