"""The evaler application: one checkpoint, every checkpoint of a run, or each
new checkpoint as training writes it (a JSON result per step and pictures);
or a trained model put to use: classify image files, export a SavedModel,
draw samples."""

import os
from typing import Dict, Optional

import numpy as np
import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib, evaluate, files, plots, serving
from ssgan_tf.data import format as data_format
from ssgan_tf.data import images as images_lib
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


def run(eval_config, log=print) -> Optional[Dict]:
    """evaler.py: classify image files, export, sample, or evaluate one
    checkpoint, every checkpoint of a run, or each new one as it appears."""
    if not eval_config.checkpoint:
        raise UserError("--checkpoint is required (a run folder or a "
                        "model-<step> prefix); evaluating untrained weights "
                        "would mean nothing")
    path = eval_config.checkpoint
    if not os.path.exists(path) and not os.path.isfile(path + ".index") and \
            not os.path.isabs(path) and eval_config.train_dir:
        path = os.path.join(eval_config.train_dir, path)
    if eval_config.predict or eval_config.export or eval_config.sample or \
            eval_config.suggest:
        return _use(eval_config, path, log)
    run_dir, prefix = ckpt_lib.resolve_checkpoint(path, log=log)
    info = ckpt_lib.read_run_info(run_dir)
    if not info:
        raise UserError(f"--checkpoint {path}: no config.json in {run_dir}; "
                        f"was it written by trainer.py?")
    dataset, split = _dataset(eval_config, info, log)
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
        problem = ckpt_lib.state_damage(run_dir)
        if problem:  # --watch follows the state file the trainer writes
            raise UserError(f"--watch: {run_dir}/checkpoint is damaged "
                            f"({problem}); resuming the run with trainer.py "
                            f"sets it aside")
        result = None
        for new_prefix in tf.train.checkpoints_iterator(
                run_dir, min_interval_secs=1, timeout=eval_config.watch_timeout):
            result = evaluate_checkpoint(run_dir, new_prefix, info, dataset,
                                         split, eval_config.batch_size, log)
            last_step = _last_step(run_dir, info)
            if last_step is not None and result["step"] >= last_step:
                break
        if result is None:
            raise UserError(f"--watch: no new checkpoint in {run_dir} within "
                            f"{eval_config.watch_timeout:.0f} s")
    else:
        result = evaluate_checkpoint(run_dir, prefix, info, dataset, split,
                                     eval_config.batch_size, log)
    if eval_config.predictions_file:
        write_predictions(serving.TrainedModel(run_dir, result["checkpoint"],
                                               info),
                          dataset, eval_config.predictions_file)
        log(f"predictions of {len(dataset)} examples in "
            f"{eval_config.predictions_file}")
    if eval_config.plots:
        plots.write_run_pictures(run_dir, result)
    return result


def _last_step(run_dir, info):
    """The step a run ends at: a time-fitted run's plan, as its config.json
    has it at its latest save (re-aimed as the run goes), else the
    configured length."""
    info = ckpt_lib.read_run_info(run_dir) or info
    schedule = info.get("schedule") or {}
    if info["config"].get("fit_to_time") and schedule.get("final_step"):
        return schedule["final_step"]
    return info["config"].get("max_training_steps")


def _dataset(eval_config, info, log):
    """(the examples to evaluate, the split's name): the run's own dataset
    unless --dataset / --dataset_dir say otherwise."""
    trained_on = info["config"].get("dataset")
    name = eval_config.dataset or trained_on
    dataset_dir = eval_config.dataset_dir or info["config"].get("dataset_dir",
                                                                "datasets")
    if not name:
        raise UserError("--dataset is needed: the run's config.json names no "
                        "dataset")
    if trained_on and name.lower() != trained_on.lower():
        log(f"evaluating on {name}; the run was trained on {trained_on}")
    if eval_config.data_id:
        dataset = data_format.select_ids(
            data_format.load_dataset(dataset_dir, name), eval_config.data_id,
            "--data_id").labeled_only()
        return dataset, "data_id"
    return (data_format.load_split(dataset_dir, name, eval_config.split),
            eval_config.split)


def _use(eval_config, path, log):
    """--predict, --export, --sample and --suggest: a trained model put to
    use."""
    if eval_config.suggest_file and \
            not eval_config.suggest_file.lower().endswith(".csv"):
        # before the minutes the suggestions take
        raise UserError(f"--suggest_file {eval_config.suggest_file}: "
                        f"expected a name ending in .csv")
    model = serving.load(path, log=log)
    if eval_config.predict:
        paths = images_lib.find_images(eval_config.predict)
        if eval_config.resize:
            probabilities = model.predict(paths, resize=True)
        else:
            probabilities = model.predict(np.stack([
                images_lib.read_image(p, model.image_shape) for p in paths]))
        k = min(eval_config.top_k, model.num_class)
        for image_path, ranked in zip(paths, serving.top_classes(
                probabilities, model.class_names, k)):
            log("\t".join([image_path] + [f"{name}\t{p:.4f}"
                                          for name, p in ranked]))
    if eval_config.suggest:
        csv_path = eval_config.suggest_file or os.path.join(
            model.run_dir, f"suggest-{model.step}.csv")
        suggestions = model.suggest(eval_config.suggest,
                                    eval_config.dataset_dir)
        sheet = write_suggestions(model, suggestions, csv_path)
        short = f" (only {len(suggestions)} unlabeled)" if \
            len(suggestions) < eval_config.suggest else ""
        log(f"{len(suggestions)} images to label{short} in {csv_path} (fill "
            f"in the label column), pictured in {sheet}; then: python "
            f"download.py --add_labels {csv_path} --name "
            f"{model.info['config']['dataset']}")
    if eval_config.sample:
        write_samples(model, eval_config.sample, eval_config.sample_file,
                      eval_config.seed)
        log(f"{eval_config.sample} samples in {eval_config.sample_file}")
    if eval_config.export:
        model.export(eval_config.export)
        log(f"SavedModel of {model.checkpoint} in {eval_config.export} "
            f"(signature serving_default: images uint8 "
            f"[n, {', '.join(map(str, model.image_shape))}] -> probabilities, "
            f"classes, class_names)")
    return None


def write_samples(model, count, path, seed=None):
    """A PNG grid of `count` generated images, or with a .hy name the
    original's `g_img` dump (one HDF5 dataset `image`, values in [-1, 1])."""
    images = model.sample_scaled(count, seed)
    if path.lower().endswith(".hy"):
        data_format.write_images(path, images)
    else:
        plots.save_sample_grid(images, path)


SUGGEST_COLUMNS = ("id", "predicted", "probability", "runner_up",
                   "runner_up_probability", "p_real", "checkpoint", "step",
                   "label")


def write_suggestions(model, suggestions, csv_path) -> str:
    """The suggestions as a CSV to fill in (a plain table: the checkpoint
    and step they came from are columns) and a contact sheet beside it (the
    same name, .png); returns the sheet's path."""
    lines = [",".join(SUGGEST_COLUMNS)]
    for item in suggestions:
        lines.append(",".join([
            _csv(item["id"]), _csv(item["predicted"]),
            f"{item['probability']:.4f}", _csv(item["runner_up"]),
            f"{item['runner_up_probability']:.4f}", f"{item['p_real']:.4f}",
            _csv(model.checkpoint), str(model.step), ""]))
    sheet = csv_path[:-len(".csv")] + ".png"
    plots.save_contact_sheet(
        np.asarray([item["image"] for item in suggestions]),
        [item["id"] for item in suggestions], sheet)
    files.write_text(csv_path, "\n".join(lines) + "\n")
    return sheet


def write_predictions(model, dataset, path):
    """One CSV row per example: id, label, prediction, the probability of
    each class and p(real), how real the discriminator finds the image."""
    probabilities, p_real = model.predict_with_realness(dataset.images)
    names = model.class_names
    rows = [",".join(["id", "label", "predicted"] +
                     [f"p_{_csv(name)}" for name in names] + ["p_real"])]
    for example_id, label, row, real in zip(dataset.ids, dataset.labels,
                                            probabilities, p_real):
        rows.append(",".join(
            [_csv(example_id), _csv(names[int(label)]),
             _csv(names[int(np.argmax(row))])] +
            [f"{p:.6f}" for p in row] + [f"{real:.6f}"]))
    files.write_text(path, "\n".join(rows) + "\n")


def _csv(text) -> str:
    text = str(text)
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
