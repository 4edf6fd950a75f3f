"""The Config built from flags: presets fill in values, explicit flags win."""

import functools
import types

import pytest
from absl import flags

from ssgan_tf import config as config_lib
from ssgan_tf.errors import UserError


def parse(*argv):
    """from_flags on a private FlagValues, as trainer.py parses its argv."""
    flag_values = flags.FlagValues()
    definers = {name: functools.partial(getattr(flags, name),
                                        flag_values=flag_values)
                for name in ("DEFINE_enum", "DEFINE_bool", "DEFINE_integer",
                             "DEFINE_float", "DEFINE_string")}
    config_lib.define_flags(types.SimpleNamespace(**definers))
    flag_values(["trainer.py", *argv])
    return config_lib.from_flags(flag_values)


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
                   "--learning_rate_d", "0.001")
    assert config.clip_norm == 20.0
    assert config.learning_rate_d == 0.001
    assert config.learning_rate_g == 0.003  # still the preset's


def test_a_bad_value_names_its_flag():
    with pytest.raises(UserError, match="--clip_norm"):
        parse("--preset", "mnist_100", "--clip_norm", "-1")
