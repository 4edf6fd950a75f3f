"""The evaler application: one checkpoint, every checkpoint of a run, or each
new checkpoint as training writes it; a JSON result per step and pictures."""

import os
from typing import Dict

import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib, evaluate, files, plots
from ssgan_tf.data import format as data_format
from ssgan_tf.errors import UserError


def evaluate_checkpoint(run_dir, prefix, info, dataset, split, batch_size,
                        log=print) -> Dict:
    """Classifies every example of `dataset` once; writes eval-<step>.json."""
    discriminator = evaluate.load_classifier(prefix, info, dataset)
    predictions = evaluate.predict(
        evaluate.make_predict_fn(discriminator, dataset.num_class),
        dataset.images, batch_size)
    result = evaluate.report(dataset.labels, predictions, dataset.num_class,
                             dataset.class_names)
    suffix = prefix.rsplit("-", 1)[-1]
    step = int(suffix) if suffix.isdigit() else 0
    result.update({"checkpoint": prefix, "step": step, "split": split,
                   "dataset": dataset.name})
    files.write_json(os.path.join(run_dir, f"eval-{step}.json"), result,
                     indent=2)
    log(evaluate.format_report(result))
    return result


def run(eval_config, log=print) -> Dict:
    """evaler.py: one checkpoint, every checkpoint of a run, or follow a run."""
    if not eval_config.checkpoint:
        raise UserError("--checkpoint is required (a run folder or a "
                        "model-<step> prefix); evaluating untrained weights "
                        "would mean nothing")
    path = eval_config.checkpoint
    if not os.path.exists(path) and not os.path.isfile(path + ".index") and \
            not os.path.isabs(path) and eval_config.train_dir:
        path = os.path.join(eval_config.train_dir, path)
    run_dir, prefix = ckpt_lib.resolve_checkpoint(path, log=log)
    info = ckpt_lib.read_run_info(run_dir)
    if not info:
        raise UserError(f"--checkpoint {path}: no config.json in {run_dir}; "
                        f"was it written by trainer.py?")
    dataset = data_format.load_dataset(eval_config.dataset_dir,
                                       eval_config.dataset)
    if eval_config.data_id:
        dataset = data_format.select_ids(dataset, eval_config.data_id,
                                         "--data_id")
        split = "data_id"
    else:
        dataset = data_format.load_split(eval_config.dataset_dir,
                                         eval_config.dataset, eval_config.split)
        split = eval_config.split
    if eval_config.all_checkpoints:
        prefixes = []
        for _, other in ckpt_lib.checkpoints(run_dir):
            problem = ckpt_lib.damage(other)
            if problem:
                log(f"{other}: does not read back ({problem}); skipped")
            else:
                prefixes.append(other)
        results = [evaluate_checkpoint(run_dir, p, info, dataset, split,
                                       eval_config.batch_size, log)
                   for p in prefixes]
        files.write_json(os.path.join(run_dir, "eval-all.json"),
                         {"steps": [r["step"] for r in results],
                          "accuracy": [r["accuracy"] for r in results],
                          "split": split, "dataset": dataset.name})
        result = results[-1]
    elif eval_config.watch:
        result = None
        last_step = info["config"].get("max_training_steps")
        for new_prefix in tf.train.checkpoints_iterator(
                run_dir, min_interval_secs=1, timeout=eval_config.watch_timeout):
            result = evaluate_checkpoint(run_dir, new_prefix, info, dataset,
                                         split, eval_config.batch_size, log)
            if last_step is not None and result["step"] >= last_step:
                break
        if result is None:
            raise UserError(f"--watch: no new checkpoint in {run_dir} within "
                            f"{eval_config.watch_timeout:.0f} s")
    else:
        result = evaluate_checkpoint(run_dir, prefix, info, dataset, split,
                                     eval_config.batch_size, log)
    if eval_config.plots:
        plots.write_run_pictures(run_dir, result)
    return result
