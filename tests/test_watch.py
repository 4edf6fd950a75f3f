"""ssgan_tf/training/watch.py: the warning when the discriminator has won."""

from ssgan_tf import config as config_lib, training
from ssgan_tf.training import watch

from conftest import write_tiny_dataset


def feed(watcher, readings):
    """[(step, warning or None)] for (step, d_loss) readings."""
    return [(step, watcher.update(step, d_loss)) for step, d_loss in readings]


def test_warns_once_after_a_whole_span_below():
    watcher = watch.LostGeneratorWatch(threshold=1e-3, span_steps=2000)
    said = feed(watcher, [(s, 0.0005) for s in range(1000, 6001, 500)])
    warned = [(step, text) for step, text in said if text]
    # below from step 1,000: the span is whole at 3,000, and only once
    assert [step for step, _ in warned] == [3000]
    assert "from step 1000 to 3000" in warned[0][1]
    assert "--seed" in warned[0][1]


def test_a_reading_above_starts_the_span_again():
    watcher = watch.LostGeneratorWatch(threshold=1e-3, span_steps=2000)
    readings = [(1000, 0.0001), (2000, 0.0001), (2500, 0.2),  # recovered
                (3000, 0.0001), (4500, 0.0001), (5000, 0.0009)]
    said = feed(watcher, readings)
    assert [step for step, text in said if text] == [5000]
    assert "from step 3000 to 5000" in dict(said)[5000]


def test_transient_dips_and_the_threshold_itself_are_quiet():
    watcher = watch.LostGeneratorWatch(threshold=1e-3, span_steps=2000)
    # the 2,000-step demo's readings around its one low value
    said = feed(watcher, [(600, 0.0436), (800, 0.0006), (1000, 0.0419),
                          (1200, 0.001), (3400, 0.001), (5000, float("nan"))])
    assert all(text is None for _, text in said)


def test_disabled_watch_and_which_losses_are_watched():
    watcher = watch.LostGeneratorWatch(enabled=False, span_steps=0)
    assert all(t is None for _, t in feed(watcher, [(10, 0.0), (20, 0.0)]))
    assert not watch.watches(config_lib.Config(d_loss="supervised"))
    assert watch.watches(config_lib.Config(d_loss="improved_gan"))
    assert watch.watches(config_lib.Config(d_loss="original"))


def test_the_training_loop_logs_the_warning(tmp_path, monkeypatch):
    # every reading counts as "below" and the span is 4 steps: the warning
    # comes at the log line of step 6 (below from step 2), once
    monkeypatch.setattr(watch, "THRESHOLD", float("inf"))
    monkeypatch.setattr(watch, "SPAN_STEPS", 4)
    write_tiny_dataset(tmp_path / "data", count=40, shape=(8, 8, 1))
    config = config_lib.Config(
        dataset="tiny", dataset_dir=str(tmp_path / "data"),
        train_dir=str(tmp_path / "runs"), batch_size=8, n_z=8,
        num_labeled=8, d_loss="improved_gan", max_training_steps=8,
        steps_per_call=2, log_step=2, test_sample_step=8,
        write_summary_step=8, output_save_step=8, ckpt_save_step=8)
    lines = []
    training.run(config, log=lines.append)
    warnings = [line for line in lines if line.startswith("warning: d_loss")]
    assert len(warnings) == 1, lines
    assert "from step 2 to 6" in warnings[0]
    assert lines.index(warnings[0]) == 1 + lines.index(
        next(line for line in lines if line.startswith("step 6/8")))
