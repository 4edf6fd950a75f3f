"""The Config built from flags: presets fill in values, explicit flags win."""

import functools
import json
import types

import pytest
from absl import flags

from ssgan_tf import config as config_lib
from ssgan_tf.errors import UserError


def parse(*argv, saved=None):
    """from_flags on a private FlagValues, as trainer.py parses its argv."""
    flag_values = flags.FlagValues()
    definers = {name: functools.partial(getattr(flags, name),
                                        flag_values=flag_values)
                for name in ("DEFINE_enum", "DEFINE_bool", "DEFINE_integer",
                             "DEFINE_float", "DEFINE_string")}
    config_lib.define_flags(types.SimpleNamespace(**definers))
    flag_values(["trainer.py", *argv])
    return config_lib.from_flags(flag_values, saved=saved)


def test_preset_replaces_the_defaults_with_its_values():
    default, preset = parse(), parse("--preset", "mnist_100")
    for name, value in config_lib.PRESETS["mnist_100"].items():
        assert getattr(preset, name) == value, name
    # the fields the preset leaves alone keep their defaults
    assert preset.label_smoothing_alpha == default.label_smoothing_alpha
    assert preset.clip_norm != default.clip_norm  # the preset does not clip


def test_an_explicit_flag_beats_the_preset_even_at_its_default_value():
    # 20 is the flag's default: only "was it given" can tell it from unset.
    config = parse("--preset", "mnist_100", "--clip_norm", "20",
                   "--learning_rate_d", "0.002")
    assert config.clip_norm == 20.0
    assert config.learning_rate_d == 0.002
    assert config.learning_rate_g == 0.001  # still the preset's
    # a boolean the preset turns on, turned off again by --no<flag>
    assert parse("--preset", "mnist_100").jit_compile is True
    assert parse("--preset", "mnist_100", "--nojit_compile").jit_compile is False


def test_a_bad_value_names_its_flag():
    with pytest.raises(UserError, match="--clip_norm"):
        parse("--preset", "mnist_100", "--clip_norm", "-1")


@pytest.mark.parametrize("flag,value", [
    ("learning_rate_d", "-1"), ("learning_rate_g", "0"),
    ("learning_rate_g", "nan"), ("adam_beta1", "1.5"), ("adam_beta1", "-0.1"),
    ("max_seconds", "-3"), ("recon_weight_scale", "-1"), ("seed", "-1"),
    ("seed", str(2**31)), ("ema_decay", "nan"), ("clip_norm", "inf"),
    ("lr_decay_fraction", "nan"),
    ("label_smoothing_alpha", "nan")])
def test_values_that_cannot_train_are_refused_by_name(flag, value):
    with pytest.raises(UserError, match=f"--{flag} must"):
        parse(f"--{flag}", value)


def test_the_edges_of_the_accepted_ranges_are_accepted():
    config = parse("--seed", "0", "--adam_beta1", "0", "--max_seconds", "0",
                   "--recon_weight_scale", "0", "--clip_norm", "0")
    assert (config.seed, config.adam_beta1, config.max_seconds) == (0, 0.0, 0.0)
    assert parse("--seed", str(config_lib.MAX_SEED)).seed == config_lib.MAX_SEED


def test_a_resume_takes_the_saved_settings_and_the_flags_given_now():
    first = parse("--preset", "mnist_100", "--max_training_steps", "180000",
                  "--seed", "7", "--dataset_dir", "/data")
    saved = config_lib.saved_settings(
        dict(json.loads(first.to_json()), unknown_field=1), "run/config.json")
    assert "unknown_field" not in saved  # another version's keys are ignored
    resumed = parse("--checkpoint", "run", "--max_seconds", "60", saved=saved)
    assert resumed.replace(checkpoint=None, max_seconds=0.0) == first
    assert (resumed.checkpoint, resumed.max_seconds) == ("run", 60.0)
    # the saved preset is not applied again over what the run overrode ...
    assert resumed.max_training_steps == 180000
    # ... unless --preset is given again; explicit flags still win
    again = parse("--preset", "mnist_100", "--learning_rate_d", "0.01",
                  saved=saved)
    assert (again.max_training_steps, again.learning_rate_d) == (60000, 0.01)
    assert again.dataset_dir == "/data" and again.seed == 7
    # except those that define the run: the resume keeps the run's
    with pytest.raises(UserError, match="--seed 8: the run was trained with "
                                        "--seed 7"):
        parse("--seed", "8", saved=saved)
    assert parse("--seed", "7", saved=saved).seed == 7
    # fields a saved config lacks keep their defaults
    assert parse(saved={"seed": 5}).batch_size == parse().batch_size


@pytest.mark.parametrize("key,value", [("batch_size", "100"),
                                       ("clip_norm", True),
                                       ("preset", 3), ("debug", "no")])
def test_a_saved_setting_of_the_wrong_type_names_the_file_and_field(key,
                                                                     value):
    with pytest.raises(UserError, match=f"run/config.json: {key} = "):
        config_lib.saved_settings({key: value}, "run/config.json")


def test_details_of_the_paper_are_fields_without_flags():
    details = set(config_lib.detail_names())
    assert details == {"d_init", "g_bn_scale", "fm_reduction",
                       "fm_separate_batch", "adam_epsilon",
                       "adam_epsilon_form", "d_width"}
    assert not details & set(config_lib.flag_names())
    # the preset still sets them, and the flag path gives the same Config
    preset = parse("--preset", "mnist_100", "--seed", "4")
    assert (preset.d_init, preset.g_bn_scale, preset.fm_reduction,
            preset.fm_separate_batch, preset.adam_epsilon) == (
                "data", False, "mean", True, 1e-4)
    assert preset == config_lib.Config.from_preset("mnist_100", seed=4)
    # without a preset: the defaults
    assert parse().d_init == "unit" and parse().adam_epsilon == 1e-7


def test_removed_and_detail_flags_say_why_they_are_gone():
    assert "was removed" in config_lib.retired_flag("g_shares_d_pass")
    assert "was removed" in config_lib.retired_flag("d_noise")
    assert "preset" in config_lib.retired_flag("d_init")
    assert config_lib.retired_flag("batch_size") is None


def test_a_saved_config_with_removed_fields_is_read_with_one_line():
    lines = []
    saved = config_lib.saved_settings(
        {"seed": 3, "d_noise": "fresh", "g_shares_d_pass": False,
         "g_extra_update_above": 0.0, "d_init": "data"}, "run/config.json",
        log=lines.append)
    assert saved == {"seed": 3, "d_init": "data"}
    assert lines == ["run/config.json: ignoring settings this version "
                     "removed: d_noise, g_extra_update_above, g_shares_d_pass"]


@pytest.mark.parametrize("changes, name", [
    (dict(adam_epsilon=0.0), "adam_epsilon"), (dict(d_init="zeros"), "d_init"),
    (dict(fm_reduction="max"), "fm_reduction"), (dict(batch_size=-5),
                                                 "batch_size")])
def test_from_preset_checks_the_values(changes, name):
    with pytest.raises(UserError, match=name):
        config_lib.Config.from_preset("mnist_100", **changes)


def test_from_preset_refuses_an_unknown_preset():
    with pytest.raises(UserError, match="mnist_1000"):
        config_lib.Config.from_preset("mnist_1000")


def test_every_config_is_checked_when_it_is_built():
    with pytest.raises(UserError, match="--batch_size must be positive"):
        config_lib.Config(batch_size=-5)
    with pytest.raises(UserError, match="--seed"):
        config_lib.Config().replace(seed=-1)


def test_max_seconds_alone_fits_the_schedule_to_the_time():
    assert parse("--preset", "mnist_100", "--max_seconds", "900").fit_to_time
    assert config_lib.Config.from_preset("mnist_100",
                                         max_seconds=900.0).fit_to_time
    # with a length in steps or epochs the time is a stop, as it was
    for length in (["--max_training_steps", "5000"], ["--epochs", "3"]):
        assert not parse("--max_seconds", "900", *length).fit_to_time
    assert not config_lib.Config.from_preset(
        "mnist_100", max_seconds=900.0, max_training_steps=5000).fit_to_time
    assert not parse().fit_to_time and not parse("--preset", "mnist_100") \
        .fit_to_time
    # a Config built in Python derives it the same way
    assert config_lib.Config(max_seconds=600.0).fit_to_time
    assert not config_lib.Config(max_seconds=600.0,
                                 max_training_steps=500).fit_to_time
    assert not config_lib.Config(max_seconds=600.0, epochs=2).fit_to_time
    assert not config_lib.Config().fit_to_time
    assert not config_lib.Config(max_seconds=600.0,
                                 fit_to_time=False).fit_to_time
    # a resume keeps the run's form; a length given now makes it a stop
    fitted = config_lib.saved_settings(json.loads(parse(
        "--max_seconds", "900").to_json()), "run/config.json")
    fixed = config_lib.saved_settings(json.loads(parse(
        "--max_training_steps", "800").to_json()), "run/config.json")
    assert parse("--checkpoint", "run", saved=fitted).fit_to_time
    assert parse("--checkpoint", "run", "--max_seconds", "1200",
                 saved=fitted).fit_to_time
    assert not parse("--checkpoint", "run", "--max_training_steps", "900",
                     saved=fitted).fit_to_time
    assert not parse("--checkpoint", "run", "--max_seconds", "60",
                     saved=fixed).fit_to_time
    # fitted needs a time, and one machine's clock
    with pytest.raises(UserError, match="max_seconds"):
        config_lib.Config(fit_to_time=True)
    with pytest.raises(UserError, match="multi_worker"):
        parse("--max_seconds", "60", "--strategy", "multi_worker",
              "--run_name", "r")
    assert "fit_to_time" not in config_lib.flag_names()
    assert "fit_to_time" not in config_lib.detail_names()
