"""The schedule: fixed, or fitted to --max_seconds from the measured step
rate; hand-computed plans, the learning rate they give, and a time-fitted
run stopped and resumed."""

import json
import time

import pytest
import tensorflow as tf

from ssgan_tf import checkpoint as ckpt_lib, training
from ssgan_tf.config import Config
from ssgan_tf.training import optimizer as optimizer_lib
from ssgan_tf.training import schedule as schedule_lib
from ssgan_tf.training.schedule import Plan

from conftest import write_tiny_dataset

# The MNIST preset's schedule: 60,000 steps, the last third decaying.
PRESET = Config(max_training_steps=60000, lr_decay_fraction=1 / 3,
                ema_decay=0.999, max_seconds=900.0, fit_to_time=True)


def test_the_fixed_plan_is_the_configured_schedule():
    assert schedule_lib.fixed_plan(PRESET) == Plan(60000,
                                                   pytest.approx(40000.0))
    constant = Config(max_training_steps=500)
    assert schedule_lib.fixed_plan(constant) == Plan(500, 500.0)


def test_before_the_decay_the_plan_is_the_schedule_shrunk_to_what_fits():
    current = schedule_lib.fixed_plan(PRESET)
    # 1,000 steps done, 800 s left at 30 steps/s: 24,000 more, 25,000 in all;
    # the decay over the last third, from step 16,666.7.
    plan = schedule_lib.fitted_plan(PRESET, 1000, 30.0, 800.0, current)
    assert plan.final_step == 25000
    assert plan.decay_start == pytest.approx(25000 * 2 / 3)
    # more time than the schedule needs: the schedule as configured
    assert schedule_lib.fitted_plan(PRESET, 1000, 100.0, 1000.0, current) \
        == Plan(60000, pytest.approx(40000.0))
    # the time left is shorter than the decay would be: it starts now
    late = schedule_lib.fitted_plan(PRESET, 9000, 30.0, 100.0, current)
    assert (late.final_step, late.decay_start) == (12000, 9000.0)
    # no time left: the run ends here
    assert schedule_lib.fitted_plan(PRESET, 9000, 30.0, -5.0,
                                    current).final_step == 9000


def test_under_way_the_decay_is_re_aimed_without_a_jump():
    # At step 25,000 of a decay from 20,000 to 30,000 the rate is half its
    # peak. A slower machine now reaches step 28,000: the line from half the
    # peak at 25,000 to 0 at 28,000 passes through the peak at 22,000.
    current = Plan(30000, 20000.0)
    plan = schedule_lib.fitted_plan(PRESET, 25000, 10.0, 300.0, current)
    assert plan.final_step == 28000
    assert plan.decay_start == pytest.approx(22000.0)
    variables = schedule_lib.PlanVariables(current)
    schedule = optimizer_lib.LinearTailDecay(0.003, 60000, 1 / 3,
                                             plan=variables)
    before = float(schedule(tf.constant(25000)))
    variables.set(plan)
    assert float(schedule(tf.constant(25000))) == pytest.approx(before)
    assert before == pytest.approx(0.0015)
    assert float(schedule(tf.constant(26500))) == pytest.approx(0.00075)
    assert float(schedule(tf.constant(28000))) == 0.0
    # time is up mid-decay: the final step is this one, the rate 0
    end = schedule_lib.fitted_plan(PRESET, 25000, 10.0, 0.0, current)
    variables.set(end)
    assert end.final_step == 25000
    assert float(schedule(tf.constant(25000))) == 0.0


def test_a_short_runs_weight_average_is_sized_by_its_warm_up():
    # No fitting needed: the warm-up, min(decay, (1 + t) / (10 + t)), makes
    # a short run's window about a tenth of its steps (at step 4,000:
    # 4,001 / 4,010, a window of 445 steps), a long one's the preset's.
    from ssgan_tf.training.ema import warmed_up_decay
    assert float(warmed_up_decay(0.999, 4000)) == pytest.approx(4001 / 4010)
    assert float(warmed_up_decay(0.999, 25000)) == pytest.approx(0.999)


def plan_of(prefix):
    """(trained seconds, final step) of a time-fitted run's checkpoint."""
    reader = tf.train.load_checkpoint(prefix)
    value = lambda name: reader.get_tensor(  # noqa: E731
        f"schedule/{name}/.ATTRIBUTES/VARIABLE_VALUE")
    return float(value("trained_seconds")), round(float(value("final_step")))


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_rate_is_measured_after_the_first_chunk():
    clock = FakeClock()
    fit = schedule_lib.TimeFit(PRESET, spent=0.0, clock=clock)
    current = schedule_lib.fixed_plan(PRESET)
    clock.now += 20.0  # tracing and compiling: 20 steps in 20 s
    assert fit.update(20, current) is None and fit.rate is None
    clock.now += 4.0  # 200 steps in 4 s: 50 steps/s
    plan = fit.update(220, current, reserve=6.0)
    assert fit.rate == pytest.approx(50.0)
    # 900 - 24 - 6 = 870 s left: 43,500 more steps
    assert plan.final_step == 220 + 43500
    assert not fit.out_of_time()
    clock.now += 876.0
    assert fit.out_of_time()


def test_a_resumed_fit_counts_the_time_spent_before():
    clock = FakeClock()
    fit = schedule_lib.TimeFit(PRESET, spent=600.0, clock=clock)
    current = Plan(30000, 20000.0)
    clock.now += 10.0
    assert fit.elapsed() == pytest.approx(610.0)
    fit.update(18000, current)
    clock.now += 10.0  # 300 steps in 10 s; 900 - 620 = 280 s left
    assert fit.update(18300, current).final_step == 18300 + 30 * 280
    clock.now += 280.0
    assert fit.out_of_time()


def test_a_time_fitted_run_resumes_its_plan_and_its_time(tmp_path):
    write_tiny_dataset(tmp_path / "data", count=64, shape=(12, 12, 1))
    config = Config(dataset="tiny", dataset_dir=str(tmp_path / "data"),
                    train_dir=str(tmp_path / "runs"), run_name="fit",
                    batch_size=8, n_z=8, max_training_steps=100000,
                    lr_decay_fraction=0.5, ema_decay=0.99, max_seconds=30.0,
                    fit_to_time=True, steps_per_call=5, log_step=5,
                    write_summary_step=50, test_sample_step=50,
                    output_save_step=10**6, ckpt_save_step=10**6, seed=2)
    lines, first_step = [], [None]

    def interrupt_after_10_seconds(line):
        # ten seconds after the first progress line: of training, not start-up
        lines.append(line)
        if line.startswith("step ") and first_step[0] is None:
            first_step[0] = time.perf_counter()
        elif line.startswith("step ") and \
                time.perf_counter() - first_step[0] > 10:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        training.run(config, interrupt_after_10_seconds)
    run_dir = tmp_path / "runs" / "fit"
    (saved_step, prefix), = ckpt_lib.checkpoints(str(run_dir))
    spent, saved_final = plan_of(prefix)
    assert 10.0 < spent < 20.0 and saved_step < saved_final < 100000
    assert any(line.startswith("--max_seconds 30:") for line in lines)

    lines.clear()
    result = training.run(Config(checkpoint=str(run_dir)), lines.append)
    # The resumed run starts from the saved plan (its progress lines count
    # to the saved final step until the rate is measured again) ...
    first = next(line for line in lines if line.startswith("step "))
    assert first.startswith(f"step {saved_step + 5}/{saved_final} ")
    # ... and has what was left of the 30 seconds, not 30 more: this
    # session trained for about 30 - spent seconds.
    total, final = plan_of(result["checkpoint"])
    assert result["step"] == final > saved_step
    assert 30.0 - 4.0 <= total < 30.0 + 3.0, (spent, total)
    session = result["history"][-1][1]
    assert session < 30.0 - spent + 3.0, (spent, session)
    schedule = json.loads((run_dir / "config.json").read_text())["schedule"]
    assert schedule["final_step"] == final
    assert schedule["fitted_to_seconds"] == 30.0
    assert schedule["trained_seconds"] == pytest.approx(total, abs=0.051)
