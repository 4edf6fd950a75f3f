"""The training loop: data, models and optimizers under the strategy, resume,
then steps in chunks that end exactly where something is due (a log line, a
summary, a test, a sample grid or a checkpoint)."""

import contextlib
import dataclasses
import glob
import hashlib
import math
import os
import shutil
import signal
import tempfile
import threading
import time

import numpy as np
import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib, config as config_lib, distribute
from ssgan_tf import evaluate, files, models, plots, run_folder
from ssgan_tf.data import format as data_format, pipeline, splits
from ssgan_tf.errors import UserError
from ssgan_tf.training import build as build_lib
from ssgan_tf.training import progress as progress_lib
from ssgan_tf.training import schedule as schedule_lib
from ssgan_tf.training import step as step_lib
from ssgan_tf.training import summaries as summaries_lib
from ssgan_tf.training import watch as watch_lib

keras = tf.keras

FIXED_NOISE_FILE = "fixed_noise.npy"
LABELED_IDS_FILE = splits.LABELED_IDS_FILE
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
    new: bool  # this run made the folder

    @property
    def semi_supervised(self) -> bool:
        return len(self.labeled) < len(self.train)


def data_info(train, test, config):
    return {"image_shape": list(train.image_shape), "num_class": train.num_class,
            "class_names": train.class_names, "num_train": len(train),
            "num_test": len(test), "model": config.model,
            "network_version": models.network_version(config.model,
                                                      train.image_shape)}


def run(config, log=print, resume_merged=False):
    """Trains one run. Returns a dict: run_dir, step, test_accuracy,
    checkpoint, history, schedule (the plan it ended with).

    With `config.checkpoint` the run resumes: with the run's settings
    (merged into `config` as trainer.py merges its flags, unless
    `resume_merged` says that was done), its split and its labeled
    examples. Resuming from a checkpoint older than the folder's newest
    continues in a new run folder beside it."""
    source_dir, restore_from = None, None
    if config.checkpoint:
        source_dir, restore_from = ckpt_lib.resolve_checkpoint(
            config.checkpoint, log=log)
        if not resume_merged:
            saved = ckpt_lib.resume_settings(config.checkpoint, log=log)
            if saved is not None:
                config = config_lib.resumed(config, saved, source_dir)
    strategy = distribute.make_strategy(config.strategy)
    distribute.per_replica_batch(config.batch_size, strategy)
    train, test = splits.train_and_test(config.dataset_dir, config.dataset,
                                        config.max_sample, config.batch_size,
                                        run_dir=source_dir)
    labeled = _labeled(config, train, source_dir, log)
    config = config.for_data(len(train))  # lengths in epochs become steps
    run_dir, branch_of = source_dir, None
    if restore_from:
        ckpt_lib.check_compatible(ckpt_lib.read_run_info(source_dir),
                                  data_info(train, test, config), restore_from,
                                  config.dataset)
        newer = ckpt_lib.newer_checkpoints(source_dir, restore_from)
        if newer:  # continuing here would leave them as the newest
            run_dir, branch_of = None, newer[-1]
    chief = distribute.is_chief(strategy)
    keras.utils.set_random_seed(config.seed)
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    lock, created = None, None
    try:
        built = build_lib.build(config, strategy, train.image_shape,
                                train.num_class)
        if restore_from:
            build_lib.restore(built, restore_from)
        # Nothing is written before this point: every check above can fail.
        new = run_dir is None
        if branch_of:
            name = f"{os.path.basename(os.path.normpath(source_dir))}" \
                   f"-from-{built.step}"
            run_dir = os.path.join(os.path.dirname(os.path.normpath(
                source_dir)), name)
            if chief:
                run_dir = created = run_folder.create(
                    os.path.dirname(run_dir), name, explicit=False)
                ckpt_lib.copy_checkpoint(restore_from, run_dir)
                _copy_fixed_noise(source_dir, run_dir)
            log(f"{restore_from} is older than the folder's newest "
                f"({os.path.basename(branch_of)}): continuing in {run_dir}, "
                f"with the run's settings, split and labels")
        elif new:
            name = config.run_name or run_folder.default_name(config)
            run_dir = os.path.join(config.train_dir, name)
            if chief:
                run_dir = created = run_folder.create(
                    config.train_dir, name, explicit=bool(config.run_name))
        if chief:
            lock = run_folder.Lock(run_dir)
            run_folder.remove_stale_temporaries(run_dir, log)
            ckpt_lib.set_aside_damaged_state(run_dir, log)
        if restore_from:
            log(f"resumed from {restore_from} at step {built.step}")
        else:
            build_lib.data_dependent_init(built, train.images, labeled,
                                          config.n_z, config.seed)
        data = RunData(train, test, labeled, run_dir, restore_from, chief,
                       new or bool(branch_of))
        return _train(config, data, built, log)
    except Exception as e:  # pylint: disable=broad-except
        if isinstance(e, UserError) or not files.out_of_space(e):
            raise
        # The disk was full before the first save: a new folder goes (one
        # that holds a checkpoint stays, whatever failed after it).
        if created and not ckpt_lib.checkpoints(created):
            shutil.rmtree(created, ignore_errors=True)
        raise files.no_space(run_dir or config.train_dir) from None
    finally:
        if lock is not None:
            lock.release()
        if config.mixed_precision:
            keras.mixed_precision.set_global_policy("float32")


def _labeled(config, train, run_dir, log):
    """The labeled examples: those the resumed run recorded, else the
    --labeled_ids file's, else a draw of --num_labeled by --seed. A damaged
    record of a run whose labels came from its seed is drawn again, and
    checked against what the run trained on."""
    recorded = os.path.join(run_dir, LABELED_IDS_FILE) if run_dir else None
    if not (recorded and os.path.isfile(recorded)):
        return splits.labeled_indices(train, config.num_labeled, config.seed,
                                      config.labeled_ids)
    saved = (ckpt_lib.read_run_info(run_dir) or {}).get("labels")
    try:
        indices = splits.labeled_indices(train, 0, config.seed, recorded,
                                         source=recorded)
        problem = _labels_problem(config, train, indices, saved)
    except UserError as error:
        indices, problem = None, str(error)
    if problem is None:
        return indices
    if config.labeled_ids:  # they came from a file: nothing to draw again
        raise UserError(problem)
    drawn = splits.labeled_indices(train, config.num_labeled, config.seed)
    if _labels_problem(config, train, drawn, saved):
        raise UserError(f"{problem}; --seed {config.seed} draws other labels "
                        f"than the run trained on")
    log(f"{problem}: rebuilt from --seed {config.seed}, the labels the run "
        f"trained on")
    return drawn


def labels_record(train, indices):
    """What config.json keeps of the labeled examples, to check them by."""
    return {"count": len(indices), "ids_sha256": hashlib.sha256("\n".join(
        train.ids[i] for i in indices).encode("utf-8")).hexdigest()}


def _labels_problem(config, train, indices, saved):
    """Why `indices` are not the labels the run trained on, or None."""
    if saved:
        if labels_record(train, indices) != saved:
            return (f"{LABELED_IDS_FILE} does not list the {saved['count']} "
                    f"labeled examples the run trained on")
    elif config.num_labeled and not config.labeled_ids and \
            len(indices) != config.num_labeled:
        return (f"{LABELED_IDS_FILE} lists {len(indices)} labeled examples, "
                f"not the run's --num_labeled {config.num_labeled}")
    return None


def _copy_fixed_noise(source_dir, run_dir):
    path = os.path.join(source_dir, FIXED_NOISE_FILE)
    if os.path.isfile(path):
        files.copy_file(path, os.path.join(run_dir, FIXED_NOISE_FILE))


def _next_event(step, config, last):
    due = [last]
    for every in (config.log_step, config.write_summary_step,
                  config.test_sample_step, config.output_save_step,
                  config.ckpt_save_step):
        due.append((step // every + 1) * every)
    return min(due)


def _write_run_files(config, data, strategy, plan):
    """config.json and labeled_ids.txt (the chief's); returns what
    config.json holds."""
    info = {
        "config": dataclasses.asdict(config),
        "data": data_info(data.train, data.test, config),
        "strategy": {"name": type(strategy).__name__,
                     "replicas": strategy.num_replicas_in_sync,
                     "per_replica_batch": config.batch_size //
                     strategy.num_replicas_in_sync},
        "schedule": dict(plan.as_dict(), fitted_to_seconds=config.max_seconds
                         if config.fit_to_time else None),
        "labels": labels_record(data.train, data.labeled)}
    ckpt_lib.write_run_info(data.run_dir, info)
    files.write_lines(os.path.join(data.run_dir, LABELED_IDS_FILE),
                      [data.train.ids[i] for i in data.labeled])
    for split, dataset in (("train", data.train), ("test", data.test)):
        files.write_lines(os.path.join(data.run_dir,
                                       splits.RUN_SPLIT_FILES[split]),
                          dataset.ids)
    return info


def _fixed_noise(config, data, log):
    """The noise of the saved sample grids, the same for the whole run."""
    path = os.path.join(data.run_dir, FIXED_NOISE_FILE)
    shape = (GRID_SIZE, config.n_z)
    # Only the chief reads the file: another worker could find it while the
    # chief is still writing it (its own samples are never saved anyway).
    if data.chief and os.path.isfile(path):
        try:
            noise = np.load(path)
            if noise.shape == shape:
                return noise
            problem = f"shape {noise.shape}, not {shape}"
        except (OSError, ValueError, EOFError) as e:
            problem = str(e).strip().splitlines()[0] if str(e).strip() else \
                type(e).__name__
        log(f"{path}: unreadable ({problem}); drawn again from --seed")
    noise = np.random.RandomState(config.seed).uniform(
        -1, 1, shape).astype(np.float32)
    if data.chief:
        with files.atomic_path(path) as tmp:
            np.save(tmp, noise)
    return noise


def _train(config, data, built, log):
    strategy, train, test = built.strategy, data.train, data.test
    plan = schedule_lib.fixed_plan(config) if built.schedule is None else \
        built.schedule.plan()
    run_info = _write_run_files(config, data, strategy, plan) \
        if data.chief else None
    # Every worker saves (saving may need all of them), but only the chief
    # into the run folder; the others into a scratch folder removed at the end.
    save_dir = data.run_dir if data.chief else tempfile.mkdtemp(
        prefix="ssgan-worker-")
    manager = tf.train.CheckpointManager(
        built.checkpoint, save_dir, max_to_keep=ckpt_lib.MAX_TO_KEEP,
        checkpoint_name=ckpt_lib.CHECKPOINT_NAME)
    noise_shape = (step_lib.noise_passes(built.objective, config.update_rate),
                   config.n_z)
    labeled = data.labeled if data.semi_supervised else None
    second_unlabeled = config.g_loss == "feature_matching" and \
        config.fm_separate_batch

    def global_stream():
        return pipeline.train_stream(train.images, train.labels, labeled,
                                     config.batch_size, config.seed,
                                     noise_shape, second_unlabeled,
                                     start_step=built.step)
    iterator = iter(pipeline.distributed_stream(strategy, global_stream,
                                                config.batch_size))
    trainer = step_lib.TrainStep(config, strategy, built.generator,
                                 built.discriminator, built.g_optimizer,
                                 built.d_optimizer, built.objective,
                                 train.num_class, data.semi_supervised,
                                 built.ema)
    if config.jit_compile and not trainer.jit_compiled:
        log(f"--jit_compile: XLA compiles the step of one replica only; the "
            f"{strategy.num_replicas_in_sync} replicas' step runs without it")
    if built.step == 0:
        log(f"training {config.model} on {config.dataset}: {len(train)} train "
            f"({len(data.labeled)} labeled, {train.num_unlabeled} "
            f"unlabeled-only), {len(test)} test, image "
            f"{train.image_shape}, {train.num_class} classes, "
            f"{strategy.num_replicas_in_sync} replica(s); run folder "
            f"{data.run_dir}")
    loop = _Loop(config, data, built, manager, _fixed_noise(config, data, log),
                 run_info, log)
    try:
        loop.run(trainer, iterator)
        test_accuracy = loop.test_accuracy
        if test_accuracy is None:  # resumed at or past the last step
            test_accuracy = _test_accuracy(loop.predict_fn, test)
        latest = manager.latest_checkpoint
        if loop.saved_step is None and latest is None:
            latest = manager.save(checkpoint_number=loop.step)
    except KeyboardInterrupt:
        with stop_signals_held():
            loop.save_on_interrupt()
        raise
    except UserError:
        loop.clean_up_failed_start()
        raise
    except Exception as e:  # pylint: disable=broad-except
        if not files.out_of_space(e):
            raise
        raise loop.disk_full() from None
    finally:
        loop.summaries.close()
    if not data.chief:
        shutil.rmtree(save_dir, ignore_errors=True)
        latest = None
    if loop.fit is not None:
        log(f"the schedule fitted to --max_seconds {config.max_seconds:g} "
            f"ended at step {loop.plan.final_step} after "
            f"{loop.fit.elapsed():.0f} s of training; --max_training_steps "
            f"{loop.plan.final_step} trains as many steps without the "
            f"clock")
    log(f"step {loop.step}: test accuracy {test_accuracy:.4f} on {len(test)} "
        f"examples; checkpoint {latest}; TensorBoard: tensorboard --logdir "
        f"{data.run_dir}")
    return {"run_dir": data.run_dir, "step": loop.step,
            "test_accuracy": test_accuracy, "checkpoint": latest,
            "history": loop.history, "schedule": loop.plan.as_dict()}


@contextlib.contextmanager
def stop_signals_held():
    """Ctrl-C, SIGTERM and SIGHUP ignored while the interrupt's save runs: a
    second one (an impatient Ctrl-C, a scheduler's SIGTERM after it) would
    cut the save short. Handlers can be set in the main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {signum: signal.signal(signum, signal.SIG_IGN)
              for signum in stops}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


class _Loop:
    """The steps of one run, in chunks that end where something is due, and
    what it does when a chunk goes wrong or the user stops it."""

    def __init__(self, config, data, built, manager, fixed_noise, run_info,
                 log):
        self.config, self.data, self.built = config, data, built
        self.manager, self.fixed_noise, self.log = manager, fixed_noise, log
        self.run_info = run_info  # config.json's contents (the chief's)
        self.plan = schedule_lib.fixed_plan(config) if built.schedule is None \
            else built.schedule.plan()
        self.fit = None  # a schedule_lib.TimeFit while a time-fitted run runs
        self.costs = {}  # seconds of the last test, sample grid and save
        self.predict_fn = evaluate.make_predict_fn(built.classifier,
                                                   data.train.num_class)
        self.sample_fn = tf.function(
            lambda z: built.generator(z, training=False))
        self.weights_finite = tf.function(lambda: tf.reduce_all([
            tf.reduce_all(tf.math.is_finite(tf.cast(v, tf.float32)))
            for v in built.generator.trainable_variables
            + built.discriminator.trainable_variables]))
        self.summaries = summaries_lib.Summaries(data.run_dir,
                                                 enabled=data.chief)
        self.progress = progress_lib.Progress(self.plan.final_step, log)
        self.watch = watch_lib.LostGeneratorWatch(
            enabled=watch_lib.watches(config))
        self.step = built.step
        self.summaries.configuration(dataclasses.asdict(config),
                                     os.path.basename(data.run_dir), self.step)
        self.saved_step = None
        self.test_accuracy = None
        self.history = []  # (step, training seconds, test accuracy)

    def run(self, trainer, iterator):
        config = self.config
        started = time.perf_counter()
        if self.built.schedule is not None:
            self.fit = schedule_lib.TimeFit(
                config, float(self.built.schedule.trained_seconds.numpy()))
            if self.fit.out_of_time():  # its time was spent before
                return
        window_start, window_steps = time.perf_counter(), 0
        final = self.plan.final_step
        while self.step < final:
            target = _next_event(self.step, config, final)
            count = min(config.steps_per_call, target - self.step)
            metrics = trainer.run(iterator, tf.constant(count, tf.int32))
            self.step += count
            window_steps += count
            step = self.step
            if self.fit is not None:
                final = self._refit(step)
                finished = step >= final or self.fit.out_of_time()
                if finished and step < final:  # out of time before the plan
                    final = self._set_plan(schedule_lib.fitted_plan(
                        config, step, 0.0, 0.0, self.plan))
            else:
                finished = step >= final or (
                    config.max_seconds > 0 and
                    time.perf_counter() - started >= config.max_seconds)
            metrics = {k: float(v) for k, v in metrics.items()}
            self._check_finite(metrics)
            if step % config.test_sample_step == 0 or finished:
                with self._timed("test"):
                    self.test_accuracy = _test_accuracy(self.predict_fn,
                                                        self.data.test)
                self.summaries.test_accuracy(self.test_accuracy, step)
                self.history.append((step, time.perf_counter() - started,
                                     self.test_accuracy))
            if step % config.write_summary_step == 0 or finished:
                self.summaries.scalars(dict(
                    metrics,
                    learning_rate_d=float(self.built.d_optimizer.learning_rate),
                    learning_rate_g=float(self.built.g_optimizer.learning_rate)),
                    step)
            if step % config.output_save_step == 0 or finished:
                with self._timed("samples"):
                    self._samples(step)
            if step % config.ckpt_save_step == 0 or finished:
                with self._timed("save"):
                    self.save()
            if step % config.log_step == 0 or finished:
                elapsed = max(time.perf_counter() - window_start, 1e-9)
                self.progress.show(step, metrics, self.test_accuracy,
                                   window_steps * config.batch_size / elapsed)
                warning = self.watch.update(step, metrics["d_loss"])
                if warning:
                    self.progress.note(warning)
                window_start, window_steps = time.perf_counter(), 0
            if finished:
                break
        self.summaries.flush()

    def _refit(self, step) -> int:
        """The time-fitted plan after the chunk ending at `step`, set where
        the step reads it; returns its final step."""
        first = self.fit.rate is None
        plan = self.fit.update(step, self.plan, sum(self.costs.values()))
        if plan is None or plan == self.plan:
            return self.plan.final_step
        self._set_plan(plan)
        if first:
            whole = "the whole schedule" if \
                plan.final_step >= self.config.max_training_steps else "about"
            self.progress.note(
                f"--max_seconds {self.config.max_seconds:g}: {whole} "
                f"{plan.final_step} steps fit at {self.fit.rate:.1f} steps/s; "
                f"learning rates decay from step {plan.decay_start:.0f} "
                f"(re-estimated as the run goes)")
        return plan.final_step

    def _set_plan(self, plan) -> int:
        self.built.schedule.set(plan)
        self.plan = plan
        self.progress.total = plan.final_step
        return plan.final_step

    @contextlib.contextmanager
    def _timed(self, name):
        start = time.perf_counter()
        yield
        self.costs[name] = time.perf_counter() - start

    def save(self):
        if self.fit is not None:
            # one reading for the checkpoint and config.json (the save takes
            # time)
            elapsed = self.fit.elapsed()
            self.built.schedule.trained_seconds.assign(elapsed)
        self.manager.save(checkpoint_number=self.step)
        self.saved_step = self.step
        if self.fit is not None and self.run_info is not None:
            self.run_info["schedule"] = dict(
                self.plan.as_dict(), fitted_to_seconds=self.config.max_seconds,
                trained_seconds=round(elapsed, 1),
                steps_per_second=None if self.fit.rate is None else
                round(self.fit.rate, 2))
            ckpt_lib.write_run_info(self.data.run_dir, self.run_info)

    def _check_finite(self, metrics):
        """Stops before a save could keep non-finite weights: the losses are
        computed before the chunk's last update, the weights after it."""
        if all(math.isfinite(v) for v in metrics.values()) and \
                bool(self.weights_finite()):
            return
        latest = self.manager.latest_checkpoint
        kept = f"the latest checkpoint is still {latest}" if latest else \
            "no checkpoint was saved"
        raise UserError(f"training diverged at step {self.step} (a loss or a "
                        f"weight is not finite); {kept}; lower the learning "
                        f"rates")

    def _samples(self, step):
        fake = self.sample_fn(tf.constant(self.fixed_noise)).numpy()
        real = pipeline.scale_images(np.asarray(
            self.data.train.images[:GRID_SIZE]))
        self.summaries.images(fake, real.numpy(), step)
        if self.data.chief:
            _save_samples(self.config, self.data.run_dir, fake, step)

    def save_on_interrupt(self):
        """Ctrl-C: keeps the steps trained since the last checkpoint."""
        self.step = self.built.step  # the chunk under way finished first
        if self.step in (0, self.saved_step) or \
                self.step == _latest_step(self.manager):
            return
        if not bool(self.weights_finite()):
            return
        try:
            self.save()
        except Exception as e:  # pylint: disable=broad-except
            if not files.out_of_space(e):
                raise
            self.log(f"\ninterrupted at step {self.step}: not saved: "
                     f"{self.disk_full()}")
            return
        self.log(f"\ninterrupted at step {self.step}: saved "
                 f"{self.manager.latest_checkpoint}")

    def disk_full(self) -> UserError:
        """After a write failed for want of space: the failed save's files
        go (the newest complete checkpoint stays the newest, so the run
        resumes from it), and the error to show."""
        run_dir, save_dir = self.data.run_dir, self.manager.directory
        kept = set(self.manager.checkpoints)
        for name in os.listdir(save_dir):
            path = os.path.join(save_dir, name)
            prefix = path.split(".index")[0].split(".data-")[0]
            if name.startswith("model-") and name.endswith("_temp"):
                shutil.rmtree(path, ignore_errors=True)
            elif name.startswith("model-") and prefix not in kept and (
                    ".index" in name or ".data-" in name):
                os.remove(path)
        latest = self.manager.latest_checkpoint
        needed = sum(os.path.getsize(p) for p in glob.glob(latest + ".*")) \
            if latest else 4 * sum(
                int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size
                for v in self.built.generator.variables
                + self.built.discriminator.variables)
        return files.no_space(run_dir, needed, f"; the newest checkpoint is "
                              f"still {latest}" if latest else "")

    def clean_up_failed_start(self):
        """A new run that failed before its first checkpoint leaves no
        folder behind."""
        if self.data.new and self.data.chief and \
                self.manager.latest_checkpoint is None:
            self.summaries.close()
            shutil.rmtree(self.data.run_dir, ignore_errors=True)


def _latest_step(manager):
    latest = manager.latest_checkpoint
    return ckpt_lib.step_of(latest) if latest else None


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
