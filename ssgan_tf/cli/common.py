"""What every command line shares: argv in the original's style, one-line errors."""

import signal
import sys
from typing import Callable, Optional, Sequence

from absl import app, flags, logging

from ssgan_tf.errors import UserError


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
    if not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)


def _flag_name(token: str) -> Optional[str]:
    """The flag a command-line token gives (`--x`, `--nox`, `--x=1`), or None."""
    if not token.startswith("-") or token in ("-", "--"):
        return None
    return token.lstrip("-").split("=", 1)[0]


def _fail(message: str):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_flags(argv: Sequence[str],
                retired: Callable[[str], Optional[str]] = lambda name: None):
    """absl's flag parsing, with its errors as one `error:` line and exit 2
    (absl's own: a FATAL line and exit 1). `retired(name)` says why a flag
    that is gone is gone, or None."""
    for token in argv[1:]:
        name = _flag_name(token)
        if name is None:
            continue
        reason = retired(name) or (retired(name[2:])
                                   if name.startswith("no") else None)
        if reason and name not in flags.FLAGS:
            _fail(reason)
    try:
        return flags.FLAGS(list(argv))
    except flags.Error as e:
        _fail(str(e).strip().splitlines()[0] if str(e).strip() else
              type(e).__name__)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (cloud preemption, Kubernetes, Slurm, a closed
    terminal), handled as Ctrl-C is: a trainer saves its steps, then exits."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _terminate(signum, frame):  # pylint: disable=unused-argument
    for other in STOP_SIGNALS:  # a second signal must not cut the save short
        signal.signal(other, signal.SIG_IGN)
    raise Terminated(signum)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def run(main: Callable, multi_value_flags: Sequence[str] = (),
        bool_flags: Sequence[str] = (), argv: Sequence[str] = None,
        retired: Callable[[str], Optional[str]] = lambda name: None,
        key_flags: Sequence[str] = ()):
    """Runs an absl `main`; a UserError or a flag that does not parse becomes
    one line on stderr and exit 2. `key_flags` are the ones `--helpshort`
    lists (`--helpfull` lists all)."""
    argv = join_multi_values(sys.argv if argv is None else argv,
                             multi_value_flags)
    for name in key_flags:  # absl's --helpshort shows the main module's
        flags.FLAGS.register_key_flag_for_module(argv[0], flags.FLAGS[name])
    argv = join_bool_values(argv, bool_flags)

    def guarded(args):
        quiet_python_logging()
        for signum in STOP_SIGNALS:
            # one ignored when we start (nohup) stays ignored
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, _terminate)
        try:
            return main(args)
        except UserError as e:
            _fail(str(e))
        except KeyboardInterrupt as e:
            signum = getattr(e, "signum", signal.SIGINT)
            print(f"interrupted ({signal.Signals(signum).name})",
                  file=sys.stderr)
            sys.exit(128 + signum)

    app.run(guarded, argv=argv,
            flags_parser=lambda args: parse_flags(args, retired))
