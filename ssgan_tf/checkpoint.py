"""Checkpoints and config.json of a run folder: find the newest that reads
back, restore, resume with the run's settings.

    <run folder>/
        model-<step>.index, model-<step>.data-*   (tf.train.Checkpoint)
        checkpoint                                 (the manager's state)
        config.json                                (the run's configuration)

Checkpoints are found by their files, not through the `checkpoint` state
file, so a damaged state file loses nothing; each is read back whole (every
tensor, checksums verified) before it is used, so a truncated or corrupt
newest checkpoint is reported and the one before it used.
"""

import glob
import json
import logging
import os
import re
from typing import List, Optional, Tuple

import tensorflow as tf

from ssgan_tf import config as config_lib, files, models
from ssgan_tf.errors import UserError

CONFIG_FILE = "config.json"
STATE_FILE = "checkpoint"
CHECKPOINT_NAME = "model"
MAX_TO_KEEP = 100  # as the original's Saver
_PREFIX = re.compile(rf"{CHECKPOINT_NAME}-(\d+)\.index$")


def checkpoints(run_dir: str) -> List[Tuple[int, str]]:
    """(step, prefix) of every model-<step> checkpoint in the folder, oldest
    first, whether or not the state file lists it."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(run_dir),
                                       f"{CHECKPOINT_NAME}-*.index")):
        match = _PREFIX.search(os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path[:-len(".index")]))
    return sorted(found)


def _first_line(error: BaseException, limit=200) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line[:limit]


def damage(prefix: str) -> Optional[str]:
    """What keeps checkpoint `prefix` from reading back, in a few words, or
    None when every tensor reads back with its checksum."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as e:  # pylint: disable=broad-except
        # TensorFlow raises DataLossError, OutOfRangeError, IndexError, ...
        # for a damaged file: every one of them means "does not read back".
        return _first_line(e)
    return None


def run_folder_of(path: str, flag: str = "--checkpoint") -> str:
    """The run folder of a run folder or a `model-<step>` prefix."""
    if os.path.isdir(path):
        return path
    if os.path.isfile(path + ".index"):
        return os.path.dirname(path) or "."
    raise UserError(f"{flag} {path}: no such checkpoint (expected a run folder "
                    f"or a prefix like train_dir/<run>/model-1000)")


def resolve_checkpoint(path: str, flag: str = "--checkpoint", log=print):
    """(run folder, checkpoint prefix) for a `model-<step>` prefix, or for a
    run folder its newest checkpoint that reads back (each newer one that
    does not is reported in one line)."""
    run_dir = run_folder_of(path, flag)
    if not os.path.isdir(path):
        problem = damage(path)
        if problem:
            raise UserError(f"{flag} {path}: the checkpoint does not read back "
                            f"({problem}); give the run folder to use its "
                            f"newest checkpoint that does")
        return run_dir, path
    found = checkpoints(run_dir)
    if not found:
        raise UserError(f"{flag} {path}: the folder holds no checkpoint "
                        f"(no model-<step>.index); a run stopped before its "
                        f"first save starts again there with trainer.py "
                        f"--run_name {os.path.basename(os.path.normpath(path))}")
    problems = []
    for _, prefix in reversed(found):
        problem = damage(prefix)
        if problem is None:
            return run_dir, prefix
        log(f"{prefix}: does not read back ({problem}); using an earlier "
            f"checkpoint")
        problems.append(f"{os.path.basename(prefix)}: {problem}")
    raise UserError(f"{flag} {path}: no checkpoint of the folder reads back "
                    f"({'; '.join(problems[:3])})")


def step_of(prefix: str) -> int:
    """The step of a `model-<step>` prefix."""
    return int(prefix.rsplit("-", 1)[1])


def newer_checkpoints(run_dir: str, prefix: str) -> List[str]:
    """The folder's checkpoints after `prefix` that read back: a resume from
    `prefix` would leave them as the folder's newest."""
    step = step_of(prefix)
    return [other for other_step, other in checkpoints(run_dir)
            if other_step > step and damage(other) is None]


def copy_checkpoint(prefix: str, run_dir: str) -> str:
    """Copies checkpoint `prefix` (its index and data files) into `run_dir`;
    returns the copy's prefix."""
    target = os.path.join(run_dir, os.path.basename(prefix))
    for path in glob.glob(glob.escape(prefix) + ".*"):
        name = os.path.basename(path)
        if name == os.path.basename(prefix) + ".index" or ".data-" in name:
            files.copy_file(path, os.path.join(run_dir, name))
    return target


def state_damage(run_dir: str) -> Optional[str]:
    """What is wrong with the folder's `checkpoint` state file, or None."""
    if not os.path.exists(os.path.join(run_dir, STATE_FILE)):
        return None
    try:
        tf.train.get_checkpoint_state(run_dir)
    except Exception as e:  # pylint: disable=broad-except
        return _first_line(e)
    return None


def set_aside_damaged_state(run_dir: str, log=print):
    """Moves a `checkpoint` state file that does not parse to
    `checkpoint.damaged` (CheckpointManager would fail on it)."""
    path = os.path.join(run_dir, STATE_FILE)
    problem = state_damage(run_dir)
    if problem is None:
        return
    os.replace(path, path + ".damaged")
    log(f"{path}: damaged ({problem}); moved to {STATE_FILE}.damaged")


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
    run_dir = run_folder_of(checkpoint_path)
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
    check_network_version(run_info, checkpoint_path)


def recorded_network_version(run_info) -> int:
    """The version of the networks whose weights a run saved (config.json's
    data.network_version; models.network_version says what they are)."""
    data, config = run_info.get("data", {}), run_info.get("config", {})
    if "network_version" in data:
        return int(data["network_version"])
    # Written before runs recorded it: the 32x32 networks were re-padded in
    # the change that added adam_epsilon_form to config.json.
    if models.network_version(config.get("model"),
                              data.get("image_shape", [0, 0])) == 2:
        return 2 if "adam_epsilon_form" in config else 1
    return 1


def check_network_version(run_info, checkpoint_path):
    """Weights saved by another version of the networks than this code
    builds would load without a word and predict differently: an error."""
    if not run_info or "data" not in run_info:
        return
    model = run_info.get("config", {}).get("model")
    current = models.network_version(model,
                                     run_info["data"].get("image_shape", []))
    saved = recorded_network_version(run_info)
    if saved != current:
        raise UserError(
            f"checkpoint {checkpoint_path} holds version {saved} of the "
            f"{model} networks for its images, and this ssgan-tf builds "
            f"version {current} (the 32x32 improved_gan networks are padded "
            f"as the paper's code from version 2): its weights would "
            f"predict differently; retrain, or use the ssgan-tf that trained "
            f"it")


def _as_list(value):
    return value if isinstance(value, (list, tuple)) else [value]


def restore(checkpoint: tf.train.Checkpoint, prefix: str, partial=False):
    """Restores, turning TensorFlow's errors into one line and keeping its
    warnings about unmatched values out of the user's output."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        status = checkpoint.restore(prefix)
        if partial:
            status.expect_partial()
        else:
            status.assert_existing_objects_matched()
            # Values this run does not use (a time-fitted run's plan, resumed
            # to a step count) are no reason for warnings.
            status.expect_partial()
    except (ValueError, AssertionError) as e:
        raise UserError(f"checkpoint {prefix} does not fit this model: "
                        f"{_first_line(e, 300)}") from None
    except Exception as e:  # pylint: disable=broad-except
        raise UserError(f"checkpoint {prefix} does not read back: "
                        f"{_first_line(e, 300)}") from None
    finally:
        logger.setLevel(level)
    return status
