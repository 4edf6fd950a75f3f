"""The training progress display: a bar on a terminal, log lines elsewhere."""

import sys


class Progress:
    """Shows `step/total`, the losses, the test accuracy and the throughput."""

    def __init__(self, total, log=print):
        self.total, self.log = total, log
        self.tty = sys.stdout.isatty() and log is print

    def show(self, step, metrics, test_accuracy, images_per_second):
        accuracy = "-" if test_accuracy is None else f"{test_accuracy:.4f}"
        text = (f"step {step}/{self.total} d_loss {metrics['d_loss']:.4f} "
                f"g_loss {metrics['g_loss']:.4f} S_loss {metrics['S_loss']:.4f} "
                f"acc {metrics['accuracy']:.3f} test_acc {accuracy} "
                f"({images_per_second:.0f} img/s)")
        if self.tty:
            done = int(30 * step / self.total)
            sys.stdout.write(f"\r[{'#' * done:<30}] {text}")
            sys.stdout.flush()
            if step >= self.total:
                sys.stdout.write("\n")
        else:
            self.log(text)

    def note(self, text):
        """A line of its own, below the progress line on a terminal."""
        if self.tty:
            sys.stdout.write("\n")
        self.log(text)
