"""The one configuration object and its flags.

Every field carries its help text; `define_flags` turns the fields into absl
flags (the CLIs call it) and `from_flags` builds the frozen Config back from
parsed flag values, so the library never reads FLAGS itself. A few fields are
details of the paper's networks and optimizer that only a preset (or the
Python API) sets: they have no flag. The presets live in `presets.py`.
"""

import dataclasses
import json
import math
from typing import Any, Dict, Optional

from ssgan_tf.errors import UserError
from ssgan_tf.presets import PRESETS

# The largest --seed: numpy's generators take seeds below 2**32 (the labeled
# draw), TensorFlow's stateless ones int64 keys.
MAX_SEED = 2**31 - 1


def _field(default, help_text, choices=None):
    return dataclasses.field(default=default, metadata={
        "help": help_text, "choices": choices, "flag": True})


def _detail(default, help_text, choices=None):
    """A field set by a preset or the Python API, with no flag."""
    return dataclasses.field(default=default, metadata={
        "help": help_text, "choices": choices, "flag": False})


def _derived(default, help_text):
    """A field that follows from the flags given (`from_flags`), no flag."""
    return dataclasses.field(default=default, metadata={
        "help": help_text, "choices": None, "flag": False, "derived": True})


# The settings that define what a run trains: a resume keeps the run's, and
# one given differently is an error.
RUN_SETTINGS = ("dataset", "max_sample", "num_labeled", "labeled_ids", "seed",
                "model", "preset")

# Settings earlier versions had; a run folder's config.json may still name
# them. Each with why it went, for the one line that says it is ignored.
REMOVED_FIELDS = {
    "d_noise": "the table noise is the only implementation",
    "g_shares_d_pass": "generator updates always follow the discriminator's",
    "g_extra_update_above": "the conditional extra generator update did not "
                            "help",
}


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything a training or evaluation run needs; saved as config.json."""

    # --- data
    dataset: str = _field("CIFAR10", "Dataset folder name under --dataset_dir "
                          "(MNIST, SVHN, CIFAR10 or your own).")
    dataset_dir: str = _field("datasets", "Folder holding one sub-folder per "
                              "dataset (data.hy + id.txt).")
    max_sample: int = _field(0, "Number of training examples the model can see "
                             "(the first N of the training split); 0: all. The "
                             "original's default of 5000 did nothing.")
    num_labeled: int = _field(0, "Training examples whose labels the model sees, "
                              "class-balanced and chosen by --seed; 0: all "
                              "(the original's behaviour).")
    labeled_ids: Optional[str] = _field(None, "A file of training ids (one per "
                                        "line) to use as the labeled set "
                                        "instead of drawing --num_labeled, "
                                        "e.g. a run's labeled_ids.txt.")
    # --- run
    prefix: str = _field("default", "First part of the run-folder name.")
    train_dir: str = _field("train_dir", "Where run folders are created.")
    run_name: Optional[str] = _field(None, "The run folder's name; default: "
                                     "the original's <prefix>-<DATASET>_lr_... "
                                     "name with a timestamp. Give every worker "
                                     "of a --strategy multi_worker run the same.")
    checkpoint: Optional[str] = _field(None, "Resume from a `model-<step>` "
                                       "prefix or a run folder (its latest); "
                                       "from one older than the folder's "
                                       "newest, in a new folder "
                                       "<run>-from-<step>.")
    seed: int = _field(123, "Seed of the labeled subset, the data order, "
                       "every random draw and the initial weights (0 to "
                       "2**31 - 1).")
    # --- model
    model: str = _field("original", "Networks: the original repository's, the "
                        "Improved-GAN paper's, or Odena's SGAN.",
                        ["original", "improved_gan", "sgan"])
    batch_size: int = _field(32, "Global batch size (split across replicas).")
    n_z: int = _field(128, "Size of the generator's uniform noise vector.")
    norm_type: str = _field("batch", "Normalization in the original networks.",
                            ["batch", "instance", "none", "None"])
    deconv_type: str = _field("bilinear", "Generator upsampling: resize then "
                              "3x3 conv (bilinear, nn) or transposed conv.",
                              ["bilinear", "nn", "transpose"])
    d_loss: str = _field("original", "Discriminator loss: the original's N+1 "
                         "softmax with label smoothing, Salimans et al.'s, or "
                         "supervised (the labeled images alone, no GAN: the "
                         "baseline).", ["original", "improved_gan", "supervised"])
    g_loss: str = _field("original", "Generator loss: the original's log p(fake) "
                         "plus annealed reconstruction, or feature matching.",
                         ["original", "feature_matching"])
    # --- details of the paper's code (set by presets, no flags)
    d_init: str = _detail("unit", "The improved_gan MNIST discriminator's "
                          "weight norm starts from unit-norm rows or from the "
                          "paper's data-dependent initialization.",
                          ["unit", "data"])
    g_bn_scale: bool = _detail(True, "The improved_gan generators' batch norms "
                               "learn a scale (the paper's have none).")
    fm_reduction: str = _detail("sum", "Feature matching sums the squared "
                                "differences of the feature means, averages "
                                "them (the paper's MNIST code), or averages "
                                "their absolute values (its 32x32 code).",
                                ["sum", "mean", "abs_mean"])
    d_width: int = _detail(96, "The improved_gan 32x32 discriminator's "
                           "channels before its first stride (twice as many "
                           "after it): 96, the paper's 64 for SVHN.")
    fm_separate_batch: bool = _detail(False, "The generator's real-feature "
                                      "mean comes from an unlabeled batch of "
                                      "its own (the paper's code), not from "
                                      "the discriminator step's.")
    adam_epsilon: float = _detail(1e-7, "Adam's epsilon for both networks.")
    adam_epsilon_form: str = _detail("keras", "Where Adam's epsilon is added: "
                                     "to the root of the second moment as "
                                     "Keras keeps it (keras: without its bias "
                                     "correction, so early steps see a larger "
                                     "epsilon) or of the bias-corrected one "
                                     "(paper: the paper's Theano code).",
                                     ["keras", "paper"])
    # --- optimization
    max_training_steps: int = _field(20000, "Training steps (each: one D "
                                     "update and --update_rate G updates).")
    epochs: int = _field(0, "Training length in epochs of the training set "
                         "(floor(examples / batch) steps each); sets "
                         "--max_training_steps when the data is loaded. 0: "
                         "use --max_training_steps.")
    learning_rate_g: float = _field(1e-4, "Generator learning rate (Adam).")
    learning_rate_d: float = _field(1e-4, "Discriminator learning rate (Adam).")
    update_rate: int = _field(1, "Generator updates per discriminator update.")
    adam_beta1: float = _field(0.5, "Adam's beta1 for both networks.")
    clip_norm: float = _field(20.0, "The gradient of the global batch is clipped "
                              "to this norm, as the original did; 0: no "
                              "clipping.")
    label_smoothing_alpha: float = _field(0.9, "One-sided label smoothing: the "
                                          "fake-class target of generated "
                                          "images; (1 - alpha)/N on each real "
                                          "class.")
    recon_weight_scale: float = _field(10.0, "Initial weight of the generator's "
                                       "reconstruction (Huber) term.")
    recon_anneal_steps: int = _field(1500, "The reconstruction weight falls "
                                     "linearly to 0 over these steps.")
    lr_decay_fraction: float = _field(0.0, "Learning rates decay linearly to 0 "
                                      "over this last fraction of training "
                                      "(the paper: 1/3); 0: constant.")
    ema_decay: float = _field(0.0, "Exponential moving average of D's weights, "
                              "used for evaluation; 0: off (the paper: 0.9999).")
    max_seconds: float = _field(0.0, "Training wall time in seconds. Alone, "
                                "the schedule is fitted to it: as many steps "
                                "as the time allows (at most "
                                "--max_training_steps), the learning-rate "
                                "decay and the weight average placed in "
                                "them, the final model saved at the end. "
                                "With --max_training_steps or --epochs: a "
                                "stop (and save). 0: no limit.")
    fit_to_time: Optional[bool] = _derived(
        None, "The schedule is fitted to --max_seconds (given without "
        "--max_training_steps or --epochs); a resumed run keeps its form. "
        "None: derived so, from the fields given.")
    steps_per_call: int = _field(20, "Training steps run inside one "
                                 "tf.function call.")
    # --- logging
    log_step: int = _field(10, "Print the losses every N steps.")
    write_summary_step: int = _field(100, "Write TensorBoard summaries every N "
                                     "steps.")
    ckpt_save_step: int = _field(1000, "Save a checkpoint every N steps.")
    test_sample_step: int = _field(100, "Measure test accuracy every N steps; "
                                   "0: once per epoch.")
    output_save_step: int = _field(1000, "Save a grid of generated samples "
                                   "every N steps.")
    dump_result: bool = _field(False, "Also write each saved generated batch to "
                               "g_img_<step>.hy (HDF5), as the original.")
    debug: bool = _field(False, "Run eagerly (no tf.function) for debugging.")
    # --- scale-out
    strategy: str = _field("auto", "tf.distribute strategy: auto = mirrored over "
                           "all GPUs if any, else the default strategy.",
                           ["auto", "mirrored", "one_device", "multi_worker"])
    sync_batch_norm: bool = _field(True, "With several replicas, batch norms "
                                   "take their statistics over the global "
                                   "batch, so k replicas compute one device's "
                                   "update; --nosync_batch_norm: each over "
                                   "its replica's share (less communication).")
    mixed_precision: bool = _field(False, "mixed_float16 compute with loss "
                                   "scaling; variables, losses and softmax stay "
                                   "float32.")
    jit_compile: bool = _field(False, "Compile the training step with XLA "
                               "(--preset mnist_100 does).")
    preset: Optional[str] = _field(None, "The paper's setup in one flag; flags "
                                   "given explicitly still win. own_28x28 / "
                                   "own_32x32: its recipe for your data "
                                   "(what --model improved_gan takes).",
                                   [None] + list(PRESETS))

    def __post_init__(self):
        if self.fit_to_time is None:  # built in Python: derived as the flags
            object.__setattr__(self, "fit_to_time", fits_to_time(
                dataclasses.asdict(self), _given(self), resuming=False))
        validate(self)  # wherever a Config comes from: flags, JSON, Python

    def steps_per_epoch(self, num_train: int) -> int:
        """Training steps in one epoch of `num_train` training examples."""
        return max(1, num_train // self.batch_size)

    def for_data(self, num_train: int) -> "Config":
        """The settings given in epochs (--epochs, --test_sample_step 0)
        turned into steps for a training set of `num_train` examples."""
        epoch = self.steps_per_epoch(num_train)
        changes = {}
        if self.epochs:
            changes["max_training_steps"] = self.epochs * epoch
        if self.test_sample_step == 0:
            changes["test_sample_step"] = epoch
        return self.replace(**changes) if changes else self

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "Config":
        """The preset's values over the defaults, then `overrides`; checked."""
        if name not in PRESETS:
            raise UserError(f"unknown preset {name!r}; one of "
                            f"{', '.join(PRESETS)}")
        values = dict(PRESETS[name], preset=name, **overrides)
        if "max_training_steps" in overrides and "epochs" not in overrides:
            values["epochs"] = 0  # a length given in steps replaces epochs
        if "fit_to_time" not in overrides:  # as the flags
            values["fit_to_time"] = fits_to_time(values, set(overrides),
                                                 resuming=False)
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """What evaler.py needs. `dataset` and `dataset_dir` default to the
    run's own (its config.json)."""

    checkpoint: Optional[str]
    dataset: Optional[str] = None
    dataset_dir: Optional[str] = None
    train_dir: str = "train_dir"
    split: str = "test"
    data_id: Optional[tuple] = None
    all_checkpoints: bool = False
    watch: bool = False
    watch_timeout: float = 600.0
    batch_size: int = 500
    plots: bool = True
    predict: Optional[tuple] = None
    top_k: int = 1
    resize: bool = False
    predictions_file: Optional[str] = None
    export: Optional[str] = None
    sample: int = 0
    sample_file: Optional[str] = None
    seed: Optional[int] = None
    suggest: int = 0
    suggest_file: Optional[str] = None


def define_flags(flags_module, skip=()):
    """Defines one absl flag per Config field (not those in `skip`)."""
    for field in dataclasses.fields(Config):
        if field.name in skip or not field.metadata["flag"]:
            continue
        help_text = field.metadata["help"]
        choices = field.metadata["choices"]
        default = field.default
        if choices:
            flags_module.DEFINE_enum(field.name, default,
                                     [c for c in choices if c is not None],
                                     help_text)
        elif field.type in (bool, "bool"):
            flags_module.DEFINE_bool(field.name, default, help_text)
        elif field.type in (int, "int"):
            flags_module.DEFINE_integer(field.name, default, help_text)
        elif field.type in (float, "float"):
            flags_module.DEFINE_float(field.name, default, help_text)
        else:
            flags_module.DEFINE_string(field.name, default, help_text)


def from_flags(flag_values, skip=(), saved=None, source="the run",
               implied_preset: Optional[str] = None) -> Config:
    """The Config of parsed flags.

    Each field comes from, in order of precedence: its flag when given on the
    command line; the preset's value when --preset is given (or, resuming,
    given again now, or `implied_preset` where none is given); `saved`, the
    settings of the run being resumed (its config.json); the flag's default. `saved` keys that are not fields
    (written by another version) are ignored; a run-defining setting given
    with another value than `saved`'s is an error naming `source`.
    """
    values, explicit = {}, set()
    for field in dataclasses.fields(Config):
        if field.name in skip:
            continue
        if not field.metadata["flag"]:
            values[field.name] = field.default
            continue
        values[field.name] = flag_values[field.name].value
        if flag_values[field.name].present:
            explicit.add(field.name)
    values = merge_saved(values, explicit, saved or {}, source)
    if implied_preset and not values.get("preset"):
        values["preset"] = implied_preset
        explicit.add("preset")  # applied as if given
    preset = values.get("preset")
    # A resumed run's settings already hold its preset's values, and the
    # flags it overrode them with: its preset applies again only when given.
    if preset and (not saved or "preset" in explicit):
        for name, value in PRESETS[preset].items():
            if name not in explicit:
                values[name] = value
    if values.get("norm_type") == "None":  # the original's spelling
        values["norm_type"] = "none"
    if "max_training_steps" in explicit and "epochs" not in explicit:
        values["epochs"] = 0  # a length given in steps replaces one in epochs
    values["fit_to_time"] = fits_to_time(values, explicit, resuming=bool(saved))
    return Config(**values)


def fits_to_time(values: Dict[str, Any], explicit, resuming: bool) -> bool:
    """Whether the schedule is fitted to --max_seconds: given without a
    length in steps or epochs; a resumed run keeps its form unless a length
    is given now."""
    if "max_training_steps" in explicit or "epochs" in explicit:
        return False
    fitted = values.get("fit_to_time", False) if resuming else True
    return bool(fitted and values.get("max_seconds", 0) > 0)


def merge_saved(values: Dict[str, Any], explicit, saved: Dict[str, Any],
                source: str = "the run") -> Dict[str, Any]:
    """`values` (Config fields) with the resumed run's `saved` settings in
    every field not in `explicit` (given now). A run-defining setting
    (RUN_SETTINGS) given with another value than the run's is an error;
    `source` names the run in it."""
    for name in RUN_SETTINGS:
        if name in explicit and name in saved and values[name] != saved[name]:
            raise UserError(f"--{name} {values[name]}: {source} was trained "
                            f"with --{name} {saved[name]}, which a resume "
                            f"keeps; leave --{name} out, or start a new run")
    merged = dict(values)
    for name, value in saved.items():
        if name in merged and name not in explicit:
            merged[name] = value
    return merged


def resumed(config: Config, saved: Dict[str, Any],
            source: str = "the run") -> Config:
    """A Config built in Python (`checkpoint=` set) merged with the resumed
    run's `saved` settings as trainer.py merges its flags: the fields that
    differ from their defaults count as given."""
    explicit = _given(config)
    if config.fit_to_time == fits_to_time(dataclasses.asdict(config),
                                          explicit, resuming=False):
        explicit.discard("fit_to_time")  # derived, not given
    values = merge_saved(dataclasses.asdict(config), explicit, saved, source)
    if "max_training_steps" in explicit and "epochs" not in explicit:
        values["epochs"] = 0  # a length given in steps replaces one in epochs
    if "fit_to_time" not in explicit:
        values["fit_to_time"] = fits_to_time(values, explicit, resuming=True)
    return Config(**values)


def _given(config: Config):
    """The fields of a Config built in Python that differ from their
    defaults: the ones counted as given."""
    return {field.name for field in dataclasses.fields(Config)
            if getattr(config, field.name) != field.default}


def field_names():
    return [field.name for field in dataclasses.fields(Config)]


def flag_names():
    return [field.name for field in dataclasses.fields(Config)
            if field.metadata["flag"]]


def detail_names():
    return [field.name for field in dataclasses.fields(Config)
            if not field.metadata["flag"]
            and not field.metadata.get("derived")]


def retired_flag(name: str) -> Optional[str]:
    """Why `--name` is no longer a trainer flag, or None if it never was one
    of the flags taken away."""
    if name in REMOVED_FIELDS:
        return f"--{name} was removed: {REMOVED_FIELDS[name]}"
    if name in detail_names():
        return (f"--{name} is no longer a flag: it is a detail of the paper's "
                f"code that a preset sets (ssgan_tf/presets.py); use --preset, "
                f"or Config(...) from Python")
    return None


def saved_settings(values, source: str, log=print) -> Dict[str, Any]:
    """The Config fields in `values` (a run's saved "config"), each checked
    against its field's type; `source` names the file in errors. Settings
    this version removed are ignored, with one line saying so."""
    if not isinstance(values, dict):
        raise UserError(f"{source}: \"config\" is not an object")
    removed = sorted(name for name in values if name in REMOVED_FIELDS)
    if removed:
        log(f"{source}: ignoring settings this version removed: "
            f"{', '.join(removed)}")
    settings = {}
    for field in dataclasses.fields(Config):
        if field.name not in values:
            continue
        value, kind = values[field.name], type(field.default)
        if field.name == "fit_to_time":  # derived where None
            ok = value is None or isinstance(value, bool)
        elif field.default is None:
            ok = value is None or isinstance(value, str)
        elif kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)
        if not ok:
            wanted = "bool" if field.name == "fit_to_time" else "str" \
                if field.default is None else kind.__name__
            raise UserError(f"{source}: {field.name} = {value!r} is not of "
                            f"type {wanted}")
        settings[field.name] = value
    return settings


def validate(config: Config):
    """Flag values that cannot work, each reported with the flag's name."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        # NaN passes every comparison below as "not too small"
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"--{field.name} must be a finite number, got "
                            f"{value}")
    for field in dataclasses.fields(config):
        choices = field.metadata["choices"]
        value = getattr(config, field.name)
        if choices and value not in choices:
            raise UserError(f"{field.name} must be one of "
                            f"{', '.join(str(c) for c in choices if c)}, got "
                            f"{value!r}")
    positive = ("batch_size", "n_z", "max_training_steps", "update_rate",
                "log_step", "write_summary_step", "ckpt_save_step",
                "output_save_step", "steps_per_call", "adam_epsilon",
                "learning_rate_g", "learning_rate_d", "d_width")
    for name in positive:
        if getattr(config, name) <= 0:
            raise UserError(f"--{name} must be positive, got "
                            f"{getattr(config, name)}")
    for name in ("max_sample", "num_labeled", "recon_anneal_steps",
                 "recon_weight_scale", "max_seconds", "epochs",
                 "test_sample_step"):
        if getattr(config, name) < 0:
            raise UserError(f"--{name} must be >= 0, got {getattr(config, name)}")
    if not 0 <= config.seed <= MAX_SEED:
        raise UserError(f"--seed must lie in [0, {MAX_SEED}], got {config.seed}")
    if not 0.0 <= config.adam_beta1 < 1.0:
        raise UserError(f"--adam_beta1 must lie in [0, 1), got "
                        f"{config.adam_beta1}")
    if not 0.0 <= config.label_smoothing_alpha <= 1.0:
        raise UserError("--label_smoothing_alpha must lie in [0, 1]")
    if config.clip_norm < 0:
        raise UserError("--clip_norm must be >= 0 (0: no clipping)")
    if not 0.0 <= config.ema_decay < 1.0:
        raise UserError("--ema_decay must lie in [0, 1)")
    if not 0.0 <= config.lr_decay_fraction <= 1.0:
        raise UserError("--lr_decay_fraction must lie in [0, 1]")
    if config.strategy == "multi_worker" and not config.run_name \
            and not config.checkpoint:
        raise UserError("--strategy multi_worker needs --run_name NAME (the "
                        "same on every worker) so all workers use one run "
                        "folder")
    if config.fit_to_time and config.max_seconds <= 0:
        raise UserError("fit_to_time needs --max_seconds > 0")
    if config.fit_to_time and config.strategy == "multi_worker":
        # Each worker would measure its own rate and fit its own schedule.
        raise UserError("--max_seconds without --max_training_steps fits the "
                        "schedule on one machine; with --strategy "
                        "multi_worker give --max_training_steps too")
    if config.model == "sgan" and (config.d_loss != "original"
                                   or config.g_loss != "original"):
        raise UserError("--model sgan has its own two-head losses; leave "
                        "--d_loss and --g_loss at 'original'")
