"""The optimizers: Adam with one fused update kernel, and the paper's
learning-rate schedule (constant, then linearly to 0)."""

import tensorflow as tf

keras = tf.keras


class LinearTailDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then linearly to 0 over the last `fraction` of training.

    Training steps are counted by `step_counter` when given (the generator's
    optimizer reads the discriminator's update count: one D update per step,
    while the generator's own count depends on `--update_rate`), else by the
    optimizer's own update count. With `plan` (a `schedule.PlanVariables`)
    the decay runs from its `decay_start` to its `final_step`, which a
    time-fitted run moves as it goes; `total_steps` is then unused.
    """

    def __init__(self, base, total_steps, fraction, step_counter=None,
                 plan=None):
        self.base, self.total_steps = base, total_steps
        self.fraction, self.step_counter = fraction, step_counter
        self.plan = plan

    def __call__(self, iterations):
        if self.fraction <= 0:
            return tf.constant(self.base, tf.float32)
        counter = iterations if self.step_counter is None else \
            self.step_counter
        step = tf.cast(counter, tf.float32)
        if self.plan is None:
            start = self.total_steps * (1.0 - self.fraction)
            remaining = (self.total_steps - step) / (self.total_steps - start)
        else:
            final = tf.convert_to_tensor(self.plan.final_step)
            remaining = tf.math.divide_no_nan(
                final - step,
                final - tf.convert_to_tensor(self.plan.decay_start))
        return self.base * tf.clip_by_value(remaining, 0.0, 1.0)

    def get_config(self):
        return {"base": self.base, "total_steps": self.total_steps,
                "fraction": self.fraction}


# What FusedAdam reads of Keras' Adam: a Keras without them gets its own update.
KERAS_PRIVATE = ("_momentums", "_velocities", "_get_variable_index")


class FusedAdam(keras.optimizers.Adam):
    """Keras's Adam, each variable updated by TensorFlow's fused
    `ResourceApplyAdam` kernel.

    The update is the same (m and v as Keras keeps them, the same bias
    correction and epsilon), and so are the optimizer's variables and their
    checkpoint keys. Keras 3 writes the update as about ten separate
    element-wise operations, each a pass over the variable; the fused kernel
    makes one. Dense float gradients only; anything else (sparse gradients,
    amsgrad) takes Keras's own update.

    With `epsilon_on_corrected`, epsilon is added to the root of the
    bias-corrected second moment, as the paper's code does (Keras and the
    kernel add it to the uncorrected root, which makes it
    1 / sqrt(1 - beta_2^t) times larger: 32 times at step 1): the kernel
    is given epsilon * sqrt(1 - beta_2^t).
    """

    def __init__(self, *args, epsilon_on_corrected=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.epsilon_on_corrected = epsilon_on_corrected

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices) or \
                not all(hasattr(self, name) for name in KERAS_PRIVATE):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        local_step = tf.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        beta2_power = tf.pow(tf.cast(self.beta_2, dtype), local_step)
        epsilon = tf.cast(self.epsilon, dtype)
        if self.epsilon_on_corrected:
            epsilon = epsilon * tf.sqrt(1.0 - beta2_power)
        return tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(m), v=_handle(v),
            beta1_power=tf.pow(tf.cast(self.beta_1, dtype), local_step),
            beta2_power=beta2_power,
            lr=tf.cast(learning_rate, dtype), beta1=tf.cast(self.beta_1, dtype),
            beta2=tf.cast(self.beta_2, dtype), epsilon=epsilon,
            grad=tf.cast(gradient, dtype), use_locking=False)


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (inside a
    strategy's update call: of this device's copy)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle


def build_optimizer(config, learning_rate, step_counter=None, plan=None):
    schedule = LinearTailDecay(learning_rate, config.max_training_steps,
                               config.lr_decay_fraction, step_counter, plan)
    # No global_clipnorm: TrainStep clips the summed gradient of all replicas.
    optimizer = FusedAdam(
        schedule, beta_1=config.adam_beta1, epsilon=config.adam_epsilon,
        epsilon_on_corrected=config.adam_epsilon_form == "paper")
    if config.mixed_precision:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
