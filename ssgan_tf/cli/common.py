"""What every command line shares: argv in the original's style, one-line errors."""

import os
import sys
from typing import Callable, Sequence

from ssgan_tf.errors import UserError

# TensorFlow's C++ start-up chatter is not for users; set before it is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def join_multi_values(argv: Sequence[str], names: Sequence[str]) -> list:
    """`--dataset A B C` (argparse nargs='+', as the original took it) becomes
    `--dataset=A,B,C`, which absl's list flags read."""
    out, index = [], 0
    argv = list(argv)
    while index < len(argv):
        token = argv[index]
        flag = token.lstrip("-")
        if token.startswith("--") and "=" not in token and flag in names:
            values = []
            index += 1
            while index < len(argv) and not argv[index].startswith("-"):
                values.append(argv[index])
                index += 1
            out.append(f"--{flag}={','.join(values)}")
            continue
        out.append(token)
        index += 1
    return out


def join_bool_values(argv: Sequence[str], names: Sequence[str]) -> list:
    """`--dump_result True` (the original's str2bool flags) becomes
    `--dump_result=True`; a bare `--dump_result` still means true."""
    out, argv = [], list(argv)
    index = 0
    while index < len(argv):
        token = argv[index]
        if (token.startswith("--") and token[2:] in names
                and index + 1 < len(argv)
                and argv[index + 1].lower() in ("true", "false")):
            out.append(f"{token}={argv[index + 1].lower()}")
            index += 2
            continue
        out.append(token)
        index += 1
    return out


def quiet_python_logging():
    """absl's Python logging shows INFO unless told otherwise, and TensorFlow
    logs through it (a "Sharding callback duration" line at every checkpoint
    save): show warnings and errors only, unless --verbosity (-v) was given."""
    from absl import flags, logging  # pylint: disable=import-outside-toplevel
    if not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)


def run(main: Callable, multi_value_flags: Sequence[str] = (),
        bool_flags: Sequence[str] = (), argv: Sequence[str] = None):
    """Runs an absl `main`; a UserError becomes one line on stderr and exit 2."""
    from absl import app  # pylint: disable=import-outside-toplevel
    argv = join_multi_values(sys.argv if argv is None else argv,
                             multi_value_flags)
    argv = join_bool_values(argv, bool_flags)

    def guarded(args):
        quiet_python_logging()
        try:
            return main(args)
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)

    app.run(guarded, argv=argv)
