"""A warning when the discriminator has won for good: its loss near 0 for a
long stretch of training.

A GAN discriminator loss near 0 means D tells every generated image apart
from the real ones; the generator then learns little from D, and a run that
stays there for thousands of steps rarely recovers. Single low readings do
happen in healthy runs, so the watch waits for every log line over
SPAN_STEPS steps to be below THRESHOLD, then warns once.
"""

THRESHOLD = 1e-3
SPAN_STEPS = 2000


class LostGeneratorWatch:
    """Fed the logged d_loss; returns a warning line once, else None."""

    def __init__(self, enabled=True, threshold=None, span_steps=None):
        self.enabled = enabled
        self.threshold = THRESHOLD if threshold is None else threshold
        self.span_steps = SPAN_STEPS if span_steps is None else span_steps
        self.since = None  # the first step of the current stretch below
        self.warned = False

    def update(self, step, d_loss):
        if not self.enabled or self.warned:
            return None
        if not d_loss < self.threshold:
            self.since = None
            return None
        if self.since is None:
            self.since = step
        if step - self.since < self.span_steps:
            return None
        self.warned = True
        return (f"warning: d_loss below {self.threshold:g} at every log line "
                f"from step {self.since} to {step}: the discriminator tells "
                f"every generated image apart and the generator has likely "
                f"stopped learning; if the test accuracy stalls too, start "
                f"again with another --seed")


def watches(config):
    """Whether a run's d_loss has a GAN term to watch."""
    return config.d_loss != "supervised"
