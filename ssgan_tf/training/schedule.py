"""How long a run trains, and where its learning-rate decay sits: the
configured number of steps, or (`--max_seconds` without
`--max_training_steps`) as many steps as the time allows, re-estimated from
the measured step rate as the run goes."""

import dataclasses
import math
import time
from typing import Optional

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Plan:
    """The run ends after `final_step`; the learning rates fall linearly from
    `decay_start` to 0 at `final_step`."""
    final_step: int
    decay_start: float

    def as_dict(self):
        return {"final_step": self.final_step,
                "decay_start": round(self.decay_start, 1)}


def fixed_plan(config) -> Plan:
    """The configured schedule: `max_training_steps`, decaying over the last
    `lr_decay_fraction`."""
    total = config.max_training_steps
    return Plan(total, total * (1.0 - config.lr_decay_fraction))


def fitted_plan(config, step: int, rate: float, seconds_left: float,
                current: Plan) -> Plan:
    """The schedule for a run at `step` that has `seconds_left` to train at
    `rate` steps a second: the configured schedule shrunk to the steps that
    fit (never stretched past `max_training_steps`).

    Before the decay has begun it starts at the last `lr_decay_fraction` of
    the steps (or now, if that has passed); once under way it is re-aimed at
    the new final step from the current learning rate, so the rate never
    jumps. (The weight average needs no fitting: its warm-up already makes
    its window about a tenth of the steps in a short run.)
    """
    final = step + max(0, math.floor(rate * max(seconds_left, 0.0)))
    final = max(step, min(final, config.max_training_steps))
    fraction = config.lr_decay_fraction
    if step <= current.decay_start:
        start = max(float(step), final * (1.0 - fraction))
    else:
        remaining = (current.final_step - step) / max(
            current.final_step - current.decay_start, 1e-9)
        if remaining <= 0 or final <= step:  # the end: the rate is 0 now
            final, start = step, current.decay_start
        else:
            start = final - (final - step) / min(remaining, 1.0)
    return Plan(final, start)


class PlanVariables(tf.Module):
    """The plan as variables the learning-rate schedule reads inside the
    compiled step, and that the checkpoint keeps (a resumed time-fitted run
    goes on with its plan and its time spent)."""

    def __init__(self, plan: Plan):
        super().__init__(name="schedule")
        self.final_step = tf.Variable(float(plan.final_step), trainable=False,
                                      dtype=tf.float32)
        self.decay_start = tf.Variable(plan.decay_start, trainable=False,
                                       dtype=tf.float32)
        self.trained_seconds = tf.Variable(0.0, trainable=False,
                                           dtype=tf.float64)

    def plan(self) -> Plan:
        return Plan(int(round(float(self.final_step.numpy()))),
                    float(self.decay_start.numpy()))

    def set(self, plan: Plan):
        self.final_step.assign(float(plan.final_step))
        self.decay_start.assign(plan.decay_start)


class TimeFit:
    """Fits a run's plan to `config.max_seconds` of training, counted over
    every session of the run (`spent` seconds before this one).

    The first chunk (tracing, compilation) is warm-up; from then on the step
    rate is the steps over the seconds since it, every test, summary and
    checkpoint included, and `reserve` seconds are kept for the final
    evaluation and save.
    """

    def __init__(self, config, spent: float, clock=time.perf_counter):
        self.config, self.spent, self.clock = config, spent, clock
        self.started = clock()
        self.mark = None  # (step, seconds) at the end of warm-up
        self.rate = None

    def elapsed(self) -> float:
        """Training seconds of the run so far, every session counted."""
        return self.spent + self.clock() - self.started

    def update(self, step: int, current: Plan,
               reserve: float = 0.0) -> Optional[Plan]:
        """The plan after a chunk that ended at `step`, or None during
        warm-up."""
        now = self.elapsed()
        if self.mark is None:
            self.mark = (step, now)
            return None
        steps, seconds = step - self.mark[0], now - self.mark[1]
        if steps <= 0 or seconds <= 0:
            return None
        self.rate = steps / seconds
        return fitted_plan(self.config, step, self.rate,
                           self.config.max_seconds - now - reserve, current)

    def out_of_time(self) -> bool:
        return self.elapsed() >= self.config.max_seconds
