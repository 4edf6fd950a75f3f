"""The training loop: data, models and optimizers under the strategy, resume,
then steps in chunks that end exactly where something is due (a log line, a
summary, a test, a sample grid or a checkpoint)."""

import dataclasses
import math
import os
import shutil
import tempfile
import time

import numpy as np
import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib, distribute, evaluate, files, plots
from ssgan_tf.data import format as data_format, pipeline, splits
from ssgan_tf.errors import UserError
from ssgan_tf.train import build as build_lib
from ssgan_tf.train import progress as progress_lib
from ssgan_tf.train import step as step_lib
from ssgan_tf.train import summaries as summaries_lib
from ssgan_tf.train import watch as watch_lib

keras = tf.keras

FIXED_NOISE_FILE = "fixed_noise.npy"
LABELED_IDS_FILE = "labeled_ids.txt"
GRID_SIZE = 64


@dataclasses.dataclass
class RunData:
    """What a run trains on and where it writes."""
    train: data_format.ArrayDataset
    test: data_format.ArrayDataset
    labeled: np.ndarray  # indices into train
    run_dir: str
    restore_from: str  # a checkpoint prefix, or None for a new run
    chief: bool  # the worker that writes the run folder

    @property
    def semi_supervised(self) -> bool:
        return len(self.labeled) < len(self.train)


def data_info(train, test, config):
    return {"image_shape": list(train.image_shape), "num_class": train.num_class,
            "class_names": train.class_names, "num_train": len(train),
            "num_test": len(test), "model": config.model}


def run(config, log=print):
    """Trains one run. Returns a dict: run_dir, step, test_accuracy,
    checkpoint, history."""
    strategy = distribute.make_strategy(config.strategy)
    distribute.per_replica_batch(config.batch_size, strategy)
    train, test = splits.train_and_test(config.dataset_dir, config.dataset,
                                        config.max_sample, config.batch_size)
    labeled = splits.labeled_indices(train, config.num_labeled, config.seed,
                                     config.labeled_ids)
    if config.checkpoint:
        run_dir, restore_from = ckpt_lib.resolve_checkpoint(config.checkpoint)
        ckpt_lib.check_compatible(ckpt_lib.read_run_info(run_dir),
                                  data_info(train, test, config), restore_from,
                                  config.dataset)
    else:
        run_dir = os.path.join(config.train_dir, config.run_name or
                               ckpt_lib.run_folder_name(config))
        restore_from = None
    data = RunData(train, test, labeled, run_dir, restore_from,
                   distribute.is_chief(strategy))
    keras.utils.set_random_seed(config.seed)
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        built = build_lib.build(config, strategy, train.image_shape,
                                train.num_class)
        if restore_from:
            with strategy.scope():
                ckpt_lib.restore(built.checkpoint, restore_from)
            log(f"resumed from {restore_from} at step {built.step}")
        else:
            build_lib.data_dependent_init(built, train.images, config.n_z)
        return _train(config, data, built, log)
    finally:
        if config.mixed_precision:
            keras.mixed_precision.set_global_policy("float32")


def _next_event(step, config, last):
    due = [last]
    for every in (config.log_step, config.write_summary_step,
                  config.test_sample_step, config.output_save_step,
                  config.ckpt_save_step):
        due.append((step // every + 1) * every)
    return min(due)


def _write_run_files(config, data, strategy):
    """config.json and labeled_ids.txt (the chief's)."""
    ckpt_lib.write_run_info(data.run_dir, {
        "config": dataclasses.asdict(config),
        "data": data_info(data.train, data.test, config),
        "strategy": {"name": type(strategy).__name__,
                     "replicas": strategy.num_replicas_in_sync,
                     "per_replica_batch": config.batch_size //
                     strategy.num_replicas_in_sync}})
    files.write_lines(os.path.join(data.run_dir, LABELED_IDS_FILE),
                      [data.train.ids[i] for i in data.labeled])


def _fixed_noise(config, data):
    """The noise of the saved sample grids, the same for the whole run."""
    path = os.path.join(data.run_dir, FIXED_NOISE_FILE)
    # Only the chief reads the file: another worker could find it while the
    # chief is still writing it (its own samples are never saved anyway).
    if data.chief and os.path.isfile(path):
        return np.load(path)
    noise = np.random.RandomState(config.seed).uniform(
        -1, 1, (GRID_SIZE, config.n_z)).astype(np.float32)
    if data.chief:
        with files.atomic_path(path) as tmp:
            np.save(tmp, noise)
    return noise


def _train(config, data, built, log):
    strategy, train, test = built.strategy, data.train, data.test
    os.makedirs(data.run_dir, exist_ok=True)
    if data.chief:
        _write_run_files(config, data, strategy)
    # Every worker saves (saving may need all of them), but only the chief
    # into the run folder; the others into a scratch folder removed at the end.
    save_dir = data.run_dir if data.chief else tempfile.mkdtemp(
        prefix="ssgan-worker-")
    manager = tf.train.CheckpointManager(
        built.checkpoint, save_dir, max_to_keep=ckpt_lib.MAX_TO_KEEP,
        checkpoint_name=ckpt_lib.CHECKPOINT_NAME)
    fixed_noise = _fixed_noise(config, data)

    noise_shape = (step_lib.noise_passes(built.objective, config.update_rate),
                   config.n_z)
    iterator = iter(pipeline.distributed_stream(
        strategy, lambda: pipeline.train_stream(
            train.images, train.labels,
            data.labeled if data.semi_supervised else None,
            config.batch_size, config.seed, noise_shape,
            second_unlabeled=config.g_loss == "feature_matching"
            and config.fm_separate_batch), config.batch_size))
    trainer = step_lib.TrainStep(config, strategy, built.generator,
                                 built.discriminator, built.g_optimizer,
                                 built.d_optimizer, built.objective,
                                 train.num_class, data.semi_supervised,
                                 built.ema)
    predict_fn = evaluate.make_predict_fn(built.classifier, train.num_class)
    sample_fn = tf.function(lambda z: built.generator(z, training=False))
    summaries = summaries_lib.Summaries(data.run_dir, enabled=data.chief)
    progress = progress_lib.Progress(config.max_training_steps, log)
    watch = watch_lib.LostGeneratorWatch(enabled=watch_lib.watches(config))

    step = built.step
    if step == 0:
        log(f"training {config.model} on {config.dataset}: {len(train)} train "
            f"({len(data.labeled)} labeled), {len(test)} test, image "
            f"{train.image_shape}, {train.num_class} classes, "
            f"{strategy.num_replicas_in_sync} replica(s); run folder "
            f"{data.run_dir}")
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
            if data.chief:
                _save_samples(config, data.run_dir, fake, step)
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
    if not data.chief:
        shutil.rmtree(save_dir, ignore_errors=True)
        latest = None
    log(f"step {step}: test accuracy {test_accuracy:.4f} on {len(test)} "
        f"examples; checkpoint {latest}; TensorBoard: tensorboard --logdir "
        f"{data.run_dir}")
    return {"run_dir": data.run_dir, "step": step,
            "test_accuracy": test_accuracy, "checkpoint": latest,
            "history": history}


def _save_samples(config, run_dir, fake, step):
    """samples-<step>.png, and with --dump_result the original's g_img dump."""
    plots.save_sample_grid(fake, os.path.join(run_dir, f"samples-{step}.png"))
    if config.dump_result:
        data_format.write_images(os.path.join(run_dir, f"g_img_{step}.hy"),
                                 fake)


def _test_accuracy(predict_fn, test):
    if len(test) == 0:
        return float("nan")
    predictions = evaluate.predict(predict_fn, test.images)
    return float(np.mean(predictions == test.labels))
