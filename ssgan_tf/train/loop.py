"""The training loop: data, models and optimizers under the strategy, resume,
then steps in chunks that end exactly where something is due (a log line, a
summary, a test, a sample grid or a checkpoint)."""

import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf

from ssgan_tf import distribute, evaluate, models, plots
from ssgan_tf.data import format as data_format, pipeline
from ssgan_tf.errors import UserError
from ssgan_tf.train import checkpoint as ckpt_lib
from ssgan_tf.train import ema as ema_lib
from ssgan_tf.train import optimizer as optimizer_lib
from ssgan_tf.train import step as step_lib
from ssgan_tf.train import summaries as summaries_lib
from ssgan_tf.train import watch as watch_lib

keras = tf.keras

FIXED_NOISE_FILE = "fixed_noise.npy"
LABELED_IDS_FILE = "labeled_ids.txt"
GRID_SIZE = 64


def load_data(config):
    """(train ArrayDataset limited by --max_sample, test ArrayDataset)."""
    dataset = data_format.load_dataset(config.dataset_dir, config.dataset)
    path = data_format.dataset_path(config.dataset_dir, config.dataset)
    splits = data_format.split_ids(path, dataset.ids)
    train = data_format.select_ids(dataset, splits["train"],
                                   os.path.join(path, "id_train.txt"))
    test = data_format.select_ids(dataset, splits["test"],
                                  os.path.join(path, "id_test.txt"))
    if config.max_sample and config.max_sample < len(train):
        train = train.take(np.arange(config.max_sample))
    if len(train) < config.batch_size:
        raise UserError(f"--batch_size {config.batch_size}: the training split "
                        f"of {config.dataset} has only {len(train)} examples")
    return train, test


def _labeled_indices(config, train):
    """The labeled subset: the ids of --labeled_ids, else a class-balanced
    draw of --num_labeled by --seed."""
    if not config.labeled_ids:
        return pipeline.choose_labeled(train.labels, config.num_labeled,
                                       train.num_class, config.seed)
    wanted = data_format.read_ids(config.labeled_ids)
    position = {example_id: i for i, example_id in enumerate(train.ids)}
    unknown = [i for i in wanted if i not in position]
    if unknown:
        raise UserError(f"--labeled_ids {config.labeled_ids}: {len(unknown)} "
                        f"id(s) not in the training split, e.g. "
                        f"{unknown[0]!r}")
    return np.sort(np.asarray([position[i] for i in wanted], np.int64))


def data_info(train, test, config):
    return {"image_shape": list(train.image_shape), "num_class": train.num_class,
            "class_names": train.class_names, "num_train": len(train),
            "num_test": len(test), "model": config.model}


class _Progress:
    """A progress line on a terminal, plain log lines otherwise."""

    def __init__(self, total, log):
        self.total, self.log = total, log
        self.tty = sys.stdout.isatty() and log is print

    def show(self, step, metrics, test_accuracy, images_per_second):
        text = (f"step {step}/{self.total} d_loss {metrics['d_loss']:.4f} "
                f"g_loss {metrics['g_loss']:.4f} S_loss {metrics['S_loss']:.4f} "
                f"acc {metrics['accuracy']:.3f} test_acc "
                f"{'-' if test_accuracy is None else f'{test_accuracy:.4f}'} "
                f"({images_per_second:.0f} img/s)")
        if self.tty:
            done = int(30 * step / self.total)
            sys.stdout.write(f"\r[{'#' * done:<30}] {text}")
            sys.stdout.flush()
            if step >= self.total:
                sys.stdout.write("\n")
        else:
            self.log(text)

    def note(self, text):
        """A line of its own, below the progress line on a terminal."""
        if self.tty:
            sys.stdout.write("\n")
        self.log(text)


def _next_event(step, config, last):
    due = [last]
    for every in (config.log_step, config.write_summary_step,
                  config.test_sample_step, config.output_save_step,
                  config.ckpt_save_step):
        due.append((step // every + 1) * every)
    return min(due)


def run(config, log=print):
    """Trains one run. Returns a dict: run_dir, step, test_accuracy, checkpoint."""
    strategy = distribute.make_strategy(config.strategy)
    distribute.per_replica_batch(config.batch_size, strategy)
    chief = distribute.is_chief(strategy)
    train, test = load_data(config)
    info = data_info(train, test, config)
    num_class, image_shape = train.num_class, train.image_shape
    labeled = _labeled_indices(config, train)
    semi_supervised = len(labeled) < len(train)

    if config.checkpoint:
        run_dir, restore_from = ckpt_lib.resolve_checkpoint(config.checkpoint)
        ckpt_lib.check_compatible(ckpt_lib.read_run_info(run_dir), info,
                                  restore_from, config.dataset)
    else:
        run_dir = os.path.join(config.train_dir, config.run_name or
                               ckpt_lib.run_folder_name(config))
        restore_from = None
    keras.utils.set_random_seed(config.seed)
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        return _train(config, strategy, chief, train, test, info, labeled,
                      semi_supervised, run_dir, restore_from, num_class,
                      image_shape, log)
    finally:
        if config.mixed_precision:
            keras.mixed_precision.set_global_policy("float32")


def _train(config, strategy, chief, train, test, info, labeled, semi_supervised,
           run_dir, restore_from, num_class, image_shape, log):
    with strategy.scope():
        generator, discriminator = models.build(
            config.model, image_shape, num_class, config.n_z, config.norm_type,
            config.deconv_type, config.sync_batch_norm, config.d_noise,
            config.g_bn_scale, config.d_init)
        generator(tf.zeros([2, config.n_z]))
        discriminator(tf.zeros([2] + list(image_shape)))
        d_optimizer = optimizer_lib.build_optimizer(config,
                                                    config.learning_rate_d)
        g_optimizer = optimizer_lib.build_optimizer(
            config, config.learning_rate_g,
            step_counter=d_optimizer.iterations)
        g_optimizer.build(generator.trainable_variables)
        d_optimizer.build(discriminator.trainable_variables)
        tracked = dict(generator=generator, discriminator=discriminator,
                       g_optimizer=g_optimizer, d_optimizer=d_optimizer,
                       step=d_optimizer.iterations)
        ema = build_weight_average(config, discriminator, image_shape,
                                   num_class)
        if ema is not None:
            tracked["ema_discriminator"] = ema.averaged
        checkpoint = tf.train.Checkpoint(**tracked)
        if restore_from:
            ckpt_lib.restore(checkpoint, restore_from)
            log(f"resumed from {restore_from} at step "
                f"{int(d_optimizer.iterations.numpy())}")
        else:
            _data_dependent_init(generator, discriminator, train, config, ema)

    os.makedirs(run_dir, exist_ok=True)
    if chief:
        ckpt_lib.write_run_info(run_dir, {
            "config": _config_dict(config), "data": info,
            "strategy": {"name": type(strategy).__name__,
                         "replicas": strategy.num_replicas_in_sync,
                         "per_replica_batch": config.batch_size //
                         strategy.num_replicas_in_sync}})
        with open(os.path.join(run_dir, LABELED_IDS_FILE), "w") as f:
            f.write("".join(f"{train.ids[i]}\n" for i in labeled))
    # Every worker saves (saving may need all of them), but only the chief
    # into the run folder; the others into a scratch folder removed at the end.
    save_dir = run_dir if chief else tempfile.mkdtemp(prefix="ssgan-worker-")
    manager = tf.train.CheckpointManager(
        checkpoint, save_dir, max_to_keep=ckpt_lib.MAX_TO_KEEP,
        checkpoint_name=ckpt_lib.CHECKPOINT_NAME)
    noise_file = os.path.join(run_dir, FIXED_NOISE_FILE)
    # Only the chief reads the file: another worker could find it while the
    # chief is still writing it (its own samples are never saved anyway).
    if chief and os.path.isfile(noise_file):
        fixed_noise = np.load(noise_file)
    else:
        fixed_noise = np.random.RandomState(config.seed).uniform(
            -1, 1, (GRID_SIZE, config.n_z)).astype(np.float32)
        if chief:
            np.save(noise_file, fixed_noise)

    noise_shape = (step_lib.noise_passes(config), config.n_z)
    iterator = iter(pipeline.distributed_stream(
        strategy, lambda: pipeline.train_stream(
            train.images, train.labels, labeled if semi_supervised else None,
            config.batch_size, config.seed, noise_shape,
            second_unlabeled=config.g_loss == "feature_matching"
            and config.fm_separate_batch), config.batch_size))
    trainer = step_lib.TrainStep(config, strategy, generator, discriminator,
                                 g_optimizer, d_optimizer, num_class,
                                 semi_supervised, ema)
    classifier = ema.averaged if ema is not None else discriminator
    predict_fn = evaluate.make_predict_fn(classifier, num_class)
    sample_fn = tf.function(lambda z: generator(z, training=False))
    summaries = summaries_lib.Summaries(run_dir, enabled=chief)
    progress = _Progress(config.max_training_steps, log)
    watch = watch_lib.LostGeneratorWatch(enabled=watch_lib.watches(config))

    step = int(d_optimizer.iterations.numpy())
    if step == 0:
        log(f"training {config.model} on {config.dataset}: {len(train)} train "
            f"({len(labeled)} labeled), {len(test)} test, image "
            f"{image_shape}, {num_class} classes, "
            f"{strategy.num_replicas_in_sync} replica(s); run folder {run_dir}")
    test_accuracy = None
    saved_step = None
    history = []  # (step, training seconds, test accuracy)
    started = time.perf_counter()
    window_start, window_steps = time.perf_counter(), 0
    while step < config.max_training_steps:
        target = _next_event(step, config, config.max_training_steps)
        count = min(config.steps_per_call, target - step)
        metrics = trainer.run(iterator, tf.constant(count, tf.int32))
        step += count
        window_steps += count
        finished = step >= config.max_training_steps or (
            config.max_seconds > 0 and
            time.perf_counter() - started >= config.max_seconds)
        metrics = {k: float(v) for k, v in metrics.items()}
        if not all(math.isfinite(v) for v in metrics.values()):
            raise UserError(f"training diverged at step {step} (a loss is "
                            f"{metrics}); lower the learning rates")
        if step % config.test_sample_step == 0 or finished:
            test_accuracy = _test_accuracy(predict_fn, test)
            summaries.test_accuracy(test_accuracy, step)
            history.append((step, time.perf_counter() - started, test_accuracy))
        if step % config.write_summary_step == 0 or finished:
            summaries.scalars(metrics, step)
        if step % config.output_save_step == 0 or finished:
            fake = sample_fn(tf.constant(fixed_noise)).numpy()
            real = pipeline.scale_images(np.asarray(train.images[:GRID_SIZE]))
            summaries.images(fake, real.numpy(), step)
            if chief:
                plots.save_sample_grid(
                    fake, os.path.join(run_dir, f"samples-{step}.png"))
                if config.dump_result:
                    _dump(os.path.join(run_dir, f"g_img_{step}.hy"), fake)
        if step % config.ckpt_save_step == 0 or finished:
            manager.save(checkpoint_number=step)
            saved_step = step
        if step % config.log_step == 0 or finished:
            elapsed = max(time.perf_counter() - window_start, 1e-9)
            progress.show(step, metrics, test_accuracy,
                          window_steps * config.batch_size / elapsed)
            warning = watch.update(step, metrics["d_loss"])
            if warning:
                progress.note(warning)
            window_start, window_steps = time.perf_counter(), 0
        if finished:
            break
    summaries.flush()
    summaries.close()
    if test_accuracy is None:  # resumed at or past the last step
        test_accuracy = _test_accuracy(predict_fn, test)
    latest = manager.latest_checkpoint
    if saved_step is None and latest is None:
        latest = manager.save(checkpoint_number=step)
    if not chief:
        shutil.rmtree(save_dir, ignore_errors=True)
        latest = None
    log(f"step {step}: test accuracy {test_accuracy:.4f} on {len(test)} "
        f"examples; checkpoint {latest}; TensorBoard: tensorboard --logdir "
        f"{run_dir}")
    return {"run_dir": run_dir, "step": step, "test_accuracy": test_accuracy,
            "checkpoint": latest, "history": history}


INIT_BATCH = 500


def build_weight_average(config, discriminator, image_shape, num_class):
    """The average of D's weights (`--ema_decay`) over a second discriminator
    built and called here, or None; call it inside the strategy's scope."""
    if config.ema_decay <= 0:
        return None
    _, averaged = models.build(config.model, image_shape, num_class,
                               config.n_z, config.norm_type, config.deconv_type)
    averaged(tf.zeros([2] + list(image_shape)))
    return ema_lib.WeightAverage(discriminator, averaged, config.ema_decay)


def _data_dependent_init(generator, discriminator, train, config, ema):
    """Weight normalization's data-dependent initialization, for the networks
    that have one, on the first training images and fresh noise."""
    count = min(len(train), INIT_BATCH)
    if hasattr(discriminator, "initialize"):
        discriminator.initialize(pipeline.scale_images(np.asarray(
            train.images[:count])))
    if hasattr(generator, "initialize"):
        generator.initialize(tf.random.uniform([count, config.n_z], -1, 1))
    if ema is not None:
        ema.copy()


def _config_dict(config):
    import dataclasses  # pylint: disable=import-outside-toplevel
    return dataclasses.asdict(config)


def _test_accuracy(predict_fn, test):
    if len(test) == 0:
        return float("nan")
    predictions = evaluate.predict(predict_fn, test.images)
    return float(np.mean(predictions == test.labels))


def _dump(path, images):
    import h5py  # pylint: disable=import-outside-toplevel
    with h5py.File(path, "w") as f:
        f["image"] = images
