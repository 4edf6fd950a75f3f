"""Run folders with the original's names, checkpoints, resume, config.json.

    train_dir/<prefix>-<DATASET>_lr_g_<lr_g>_d_<lr_d>_update_G<rate>D1-<YYYYmmdd-HHMMSS>/
        model-<step>.index, model-<step>.data-*   (tf.train.Checkpoint)
        checkpoint                                 (the manager's state)
        config.json                                (the run's configuration)
"""

import json
import os
import time

import tensorflow as tf

from ssgan_tf import config as config_lib, files
from ssgan_tf.errors import UserError

CONFIG_FILE = "config.json"
CHECKPOINT_NAME = "model"
MAX_TO_KEEP = 100  # as the original's Saver


def run_folder_name(config, timestamp=None) -> str:
    stamp = timestamp or time.strftime("%Y%m%d-%H%M%S")
    return (f"{config.prefix}-{config.dataset}_lr_g_{config.learning_rate_g}"
            f"_d_{config.learning_rate_d}_update_G{config.update_rate}D1-{stamp}")


def resolve_checkpoint(path: str, flag: str = "--checkpoint"):
    """(run folder, checkpoint prefix) for a `model-<step>` prefix or a run
    folder (its latest checkpoint)."""
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise UserError(f"{flag} {path}: the folder holds no checkpoint "
                            f"(no `checkpoint` file / model-<step>.index)")
        return path, latest
    if os.path.isfile(path + ".index"):
        return os.path.dirname(path) or ".", path
    raise UserError(f"{flag} {path}: no such checkpoint (expected a run folder "
                    f"or a prefix like train_dir/<run>/model-1000)")


def read_run_info(run_dir: str):
    """The config.json a run wrote, or None."""
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        raise UserError(f"{path}: unreadable JSON") from None


def resume_settings(checkpoint_path: str, given=(), log=print):
    """The settings a resume from `checkpoint_path` continues with: the
    fields of its run's config.json, type-checked; None (and a message) when
    the run has none. `given` names the flags given now, which override them."""
    run_dir, _ = resolve_checkpoint(checkpoint_path)
    values = (read_run_info(run_dir) or {}).get("config")
    if values is None:
        log(f"{run_dir} has no {CONFIG_FILE}: resuming with the settings of "
            f"the flags alone")
        return None
    source = f"{run_dir}/{CONFIG_FILE}"
    saved = config_lib.saved_settings(values, source, log)
    log(f"resuming with the settings of {source}" +
        (f"; given now: {' '.join(given)}" if given else ""))
    return saved


def write_run_info(run_dir: str, info: dict):
    files.write_json(os.path.join(run_dir, CONFIG_FILE), info, indent=2,
                     sort_keys=True)


def check_compatible(run_info, data_info, checkpoint_path, dataset_name):
    """A checkpoint made for another image shape or class count is an error."""
    if not run_info:
        return
    saved = run_info.get("data", {})
    for key, what in (("image_shape", "image shape"), ("num_class", "classes")):
        if key in saved and list(_as_list(saved[key])) != list(
                _as_list(data_info[key])):
            raise UserError(
                f"checkpoint {checkpoint_path} was trained for {what} "
                f"{saved[key]}, but dataset {dataset_name} has {data_info[key]}")
    model = run_info.get("config", {}).get("model")
    if model and data_info.get("model") and model != data_info["model"]:
        raise UserError(f"checkpoint {checkpoint_path} holds a --model {model} "
                        f"network, not {data_info['model']}")


def _as_list(value):
    return value if isinstance(value, (list, tuple)) else [value]


def restore(checkpoint: tf.train.Checkpoint, prefix: str, partial=False):
    """Restores, turning TensorFlow's errors into one line."""
    try:
        status = checkpoint.restore(prefix)
        if partial:
            status.expect_partial()
        else:
            status.assert_existing_objects_matched()
    except (ValueError, tf.errors.OpError, AssertionError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"checkpoint {prefix} does not fit this model: "
                        f"{first[:300]}") from None
    return status
