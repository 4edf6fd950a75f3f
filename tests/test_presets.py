"""The presets, detail by detail against the paper's code, and a short run of
each 32x32 preset on tiny data in the exact upstream SVHN and CIFAR-10
formats."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf import losses, models, presets
from ssgan_tf.config import Config
from ssgan_tf.data import format as data_format, sources
from ssgan_tf.models import improved_gan, noise as noise_lib
from ssgan_tf.training import build as build_lib

from conftest import cifar10_files, svhn_files


def built_networks(preset):
    config = Config.from_preset(preset)
    return models.build("improved_gan", (32, 32, 3), 10, config.n_z,
                        g_bn_scale=config.g_bn_scale, d_width=config.d_width)


@pytest.mark.parametrize("preset, width", [("svhn_1000", 64),
                                           ("cifar10_4000", 96)])
def test_the_discriminators_width(preset, width):
    _, discriminator = built_networks(preset)
    discriminator(tf.zeros([1, 32, 32, 3]))
    assert discriminator.convs[0].v.shape[-1] == width
    assert discriminator.convs[3].v.shape[-1] == 2 * width


@pytest.mark.parametrize("preset, examples, steps, epoch", [
    ("cifar10_4000", 50000, 600000, 500), ("svhn_1000", 73257, 658800, 732),
    ("cifar10_4000", 1234, 1200 * 12, 12)])
def test_the_schedule_is_the_papers_in_epochs(preset, examples, steps, epoch):
    config = Config.from_preset(preset).for_data(examples)
    assert config.max_training_steps == steps
    assert config.test_sample_step == epoch  # once per epoch
    assert config.lr_decay_fraction == pytest.approx(1 / 3)
    # a length given in steps replaces the one in epochs
    short = Config.from_preset(preset, max_training_steps=7).for_data(examples)
    assert short.max_training_steps == 7


def test_the_32x32_presets_take_the_papers_details():
    for name in ("svhn_1000", "cifar10_4000"):
        config = Config.from_preset(name)
        assert (config.fm_reduction, config.fm_separate_batch,
                config.adam_epsilon, config.g_bn_scale) == (
                    "abs_mean", True, 1e-4, False), name
    # MNIST keeps its measured settings, in steps
    assert Config.from_preset("mnist_100").max_training_steps == 60000
    assert presets.MNIST_100["fm_reduction"] == "mean"


def test_l1_feature_matching_by_hand():
    real = tf.constant([[1.0, -2.0], [3.0, 0.0]])  # mean (2, -1)
    fake = tf.constant([[0.0, 0.0], [1.0, 1.0]])   # mean (0.5, 0.5)
    # (|2 - 0.5| + |-1 - 0.5|) / 2 = 1.5
    assert float(losses.feature_matching(real, fake, "abs_mean")) == \
        pytest.approx(1.5)


def test_initialization_scales_and_fixed_hidden_scales():
    generator, discriminator = built_networks("cifar10_4000")
    images = tf.random.uniform([64, 32, 32, 3], -1, 1, seed=1)
    tf.random.set_seed(0)
    logits = discriminator.initialize(images)
    # the output layer: pre-activations of deviation 0.1 on the init batch
    std = tf.math.reduce_std(logits, axis=0).numpy()
    np.testing.assert_allclose(std, 0.1, rtol=1e-2)
    assert all(not conv.g.trainable for conv in discriminator.convs)
    assert discriminator.out.g.trainable
    # the generator's weight-normed output layer: pre-tanh deviation 0.1
    generator(tf.zeros([1, 100]))
    assert isinstance(generator.to_image,
                      improved_gan.WeightNormConv2DTranspose)
    z = tf.random.uniform([200, 100], -1, 1, seed=2)
    generator.initialize(z)
    pre_tanh = generator.to_image(generator._hidden(z, training=True))
    std = tf.math.reduce_std(pre_tanh, axis=[0, 1, 2]).numpy()
    np.testing.assert_allclose(std, 0.1, rtol=1e-2)
    assert float(tf.reduce_max(tf.abs(tf.reduce_mean(
        pre_tanh, axis=[0, 1, 2])))) < 1e-3
    # batch norms without a scale, epsilon 1e-6; weights from N(0, 0.05)
    assert not generator.norm0.scale and generator.norm0.epsilon == 1e-6
    assert float(tf.math.reduce_std(generator.dense.kernel)) == \
        pytest.approx(0.05, rel=0.05)


def test_the_init_batch_is_labeled_with_dropout_on():
    config = Config.from_preset("cifar10_4000", batch_size=4, n_z=8)
    strategy = tf.distribute.get_strategy()
    built = build_lib.build(config, strategy, (32, 32, 3), 10)
    images = np.zeros((700, 32, 32, 3), np.uint8)
    labeled = np.arange(100, 700, 2)  # 300 labeled examples
    images[labeled] = 255
    seen = []
    original = built.discriminator.initialize
    built.discriminator.initialize = lambda batch, draws: (seen.append(
        batch.numpy()), original(batch, draws))
    build_lib.data_dependent_init(built, images, labeled, config.n_z, seed=1)
    assert seen[0].shape[0] == 300 and np.all(seen[0] == 1.0)
    # dropout on: the same batch initializes the scales differently with
    # other draws (another seed), the same with the same
    gains = []
    for seed in (1, 2, 1):
        original(tf.constant(seen[0][:50]),
                 noise_lib.Draws.whole(seed, 0, 50, noise_lib.INIT))
        gains.append(built.discriminator.convs[1].g.numpy().copy())
    assert not np.allclose(gains[0], gains[1])
    np.testing.assert_array_equal(gains[0], gains[2])


def test_the_init_batch_is_a_random_draw_of_the_labeled_set():
    """More labeled images than the init batch, grouped by class: the 500
    are drawn at random by the seed (every class among them), not the
    first 500 (two classes)."""
    config = Config.from_preset("cifar10_4000", batch_size=4, n_z=8)
    strategy = tf.distribute.get_strategy()
    built = build_lib.build(config, strategy, (32, 32, 3), 10)
    labeled = np.arange(1000, 3000)  # 2,000 labeled, 200 of each class
    images = np.zeros((3000, 32, 32, 3), np.uint8)
    images[labeled] = (np.arange(2000) // 200 * 20 + 10)[:, None, None, None]
    seen = []
    built.discriminator.initialize = lambda batch, draws: seen.append(
        np.round((batch.numpy()[:, 0, 0, 0] + 1) * 127.5))
    for seed in (1, 2, 1):
        build_lib.data_dependent_init(built, images, labeled, config.n_z,
                                      seed=seed)
    assert len(seen[0]) == build_lib.INIT_BATCH
    assert set(seen[0]) == {k * 20 + 10 for k in range(10)}
    np.testing.assert_array_equal(seen[0], seen[2])
    assert not np.array_equal(seen[0], seen[1])


def test_hidden_scales_stay_at_their_initialized_values(tmp_path):
    from ssgan_tf import training
    from conftest import write_tiny_dataset
    write_tiny_dataset(tmp_path / "data", count=60, shape=(32, 32, 3),
                       num_class=10, splits=True)
    config = Config.from_preset(
        "cifar10_4000", dataset="tiny", dataset_dir=str(tmp_path / "data"),
        train_dir=str(tmp_path / "runs"), num_labeled=10, batch_size=8,
        max_training_steps=3, steps_per_call=1, ckpt_save_step=1,
        log_step=1, output_save_step=3, write_summary_step=3)
    run_dir = training.run(config, log=lambda *a: None)["run_dir"]
    first = tf.train.load_checkpoint(f"{run_dir}/model-1")
    last = tf.train.load_checkpoint(f"{run_dir}/model-3")
    key = "discriminator/conv_2/g/.ATTRIBUTES/VARIABLE_VALUE"
    np.testing.assert_array_equal(first.get_tensor(key), last.get_tensor(key))
    assert not np.allclose(first.get_tensor(key), 1.0)  # initialized
    # while the trained weights (saved through D's optimizer) moved
    trained = [k for k in first.get_variable_to_shape_map()
               if k.startswith("d_optimizer/_trainable_variables/")]
    assert trained and any(not np.allclose(first.get_tensor(k),
                                           last.get_tensor(k))
                           for k in trained)


@pytest.mark.parametrize("name, preset", [("SVHN", "svhn_1000"),
                                          ("CIFAR10", "cifar10_4000")])
def test_each_32x32_preset_trains_on_the_upstream_format(tmp_path, name,
                                                         preset):
    from ssgan_tf import training
    if name == "SVHN":
        files, hashes, _ = svhn_files(num_train=30, num_test=10)
        sizes = (30, 10)
    else:
        files, hashes, _ = cifar10_files(per_batch=20, num_test=10)
        sizes = (100, 10)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for file_name, data in files.items():
        (mirror / file_name).write_bytes(data)
    real = sources.SOURCES[name]
    source = dataclasses.replace(
        real, official_sizes=sizes,
        files=tuple(dataclasses.replace(r, sha256=hashes[r.name])
                    for r in real.files))
    sources.download(name, str(tmp_path / "data"), mirror=str(mirror),
                     source=source, log=lambda *a: None)
    lines = []
    config = Config.from_preset(
        preset, dataset_dir=str(tmp_path / "data"),
        train_dir=str(tmp_path / "runs"), num_labeled=10, batch_size=10,
        max_training_steps=4, steps_per_call=2, log_step=2,
        output_save_step=4, write_summary_step=4, ckpt_save_step=4)
    result = training.run(config, log=lines.append)
    assert result["step"] == 4 and np.isfinite(result["test_accuracy"])
    assert any("(10 labeled, 0 unlabeled-only)" in line for line in lines)
    test = data_format.load_split(str(tmp_path / "data"), name, "test")
    assert len(test) == 10


def test_chunked_and_compiled_steps_equal_the_plain_step(tmp_path, float64):
    """The 32x32 networks' step run three to a call and compiled with XLA
    gives the weights of the plain one-step-per-call step (in float64, where
    XLA's other order of sums differs by ~1e-16 on any CPU)."""
    change = {"steps_per_call": 3, "jit_compile": True}
    from ssgan_tf import training
    from conftest import write_tiny_dataset
    write_tiny_dataset(tmp_path / "data", count=60, shape=(32, 32, 3),
                       num_class=10, splits=True)
    weights = []
    for name, extra in (("plain", {}), ("changed", change)):
        settings = dict(
            dataset="tiny", dataset_dir=str(tmp_path / "data"),
            train_dir=str(tmp_path / "runs"), run_name=name, num_labeled=10,
            batch_size=8, max_training_steps=3, steps_per_call=1,
            ckpt_save_step=3, log_step=3, output_save_step=3,
            write_summary_step=3, test_sample_step=3, d_width=8)
        config = Config.from_preset("svhn_1000", **dict(settings, **extra))
        run_dir = training.run(config, log=lambda *a: None)["run_dir"]
        reader = tf.train.load_checkpoint(f"{run_dir}/model-3")
        weights.append({k: reader.get_tensor(k) for k in
                        reader.get_variable_to_shape_map()
                        if k.startswith(("discriminator/", "generator/"))})
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        assert weights[0][key].dtype == np.float64, key
        np.testing.assert_allclose(weights[0][key], weights[1][key],
                                   rtol=1e-9, atol=1e-9, err_msg=key)


def test_own_data_presets_follow_the_shape():
    from ssgan_tf import presets
    assert presets.for_shape((28, 28, 1)) == "own_28x28"
    assert presets.for_shape((32, 32, 3)) == "own_32x32"
    assert presets.for_shape((32, 32, 1)) == "own_32x32"
    assert presets.for_shape((64, 64, 3)) is None
    own = Config.from_preset("own_28x28", dataset="mine")
    mnist = Config.from_preset("mnist_100")
    for name in ("d_loss", "g_loss", "learning_rate_d", "learning_rate_g",
                 "ema_decay", "batch_size", "d_init", "fm_separate_batch"):
        assert getattr(own, name) == getattr(mnist, name), name
    assert own.dataset == "mine" and own.num_labeled == 0 and own.epochs == 100


def test_model_improved_gan_on_own_data_takes_the_paper_recipe(tmp_path):
    """The README's own-data command: --model improved_gan without a preset
    trains with the recipe of the data's shape; flags given still win, and
    --model original keeps the original's settings."""
    import json
    import os
    from conftest import run_cli, write_tiny_dataset
    write_tiny_dataset(tmp_path / "data", count=40, shape=(28, 28, 1))
    common = ["--dataset", "tiny", "--dataset_dir", str(tmp_path / "data"),
              "--train_dir", str(tmp_path / "runs"), "--batch_size", "10",
              "--max_training_steps", "2", "--nojit_compile"]
    configs = {}
    for name, extra in (("own", ["--model", "improved_gan",
                                 "--learning_rate_g", "0.002"]),
                        ("original", [])):
        result = run_cli("trainer.py", *common, "--run_name", name, *extra)
        assert result.returncode == 0, result.stderr[-3000:]
        with open(os.path.join(tmp_path, "runs", name, "config.json")) as f:
            configs[name] = json.load(f)["config"]
        if name == "own":
            assert "--preset own_28x28" in result.stdout
    own, original = configs["own"], configs["original"]
    assert own["preset"] == "own_28x28"
    assert own["d_loss"] == "improved_gan" and own["ema_decay"] == 0.999
    assert own["learning_rate_d"] == 0.003 and own["learning_rate_g"] == 0.002
    assert own["jit_compile"] is False and own["batch_size"] == 10
    assert original["preset"] is None and original["model"] == "original"
    assert original["ema_decay"] != 0.999
