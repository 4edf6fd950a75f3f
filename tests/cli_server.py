"""The CLIs run in a process of their own, forked from one that has already
imported TensorFlow and the library (multiprocessing's fork server): a fresh
TensorFlow runtime, real exit statuses and real stdout/stderr each time,
without paying the 4-6 s import on every call.

The server imports modules only; it never runs a TensorFlow op, so each
child starts its runtime from nothing, as `python trainer.py` would.
"""

import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile

# Imported once by the server; the CLI modules themselves define absl flags
# (some of the same names) and are imported by each child.
PRELOAD = ["numpy", "h5py", "tensorflow", "keras", "absl.app",
           "ssgan_tf.cli", "ssgan_tf.training", "ssgan_tf.evaler",
           "ssgan_tf.serving", "ssgan_tf.suggest", "ssgan_tf.data.fetch",
           "ssgan_tf.data.folder", "ssgan_tf.data.sources", "ssgan_tf.plots",
           "matplotlib.pyplot"]

_context = None


def _server():
    global _context  # pylint: disable=global-statement
    if _context is None:
        # matplotlib picks its backend at import: the CLIs' is Agg.
        os.environ.setdefault("MPLBACKEND", "Agg")
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def _child(script, args, cwd, env, out_path, err_path):
    """Runs `script` as __main__ with `args`, stdout and stderr into files."""
    for fd, path in ((1, out_path), (2, err_path)):
        handle = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.dup2(handle, fd)
        os.close(handle)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(script)
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def run(script, args, cwd, env, timeout):
    """subprocess.run's CompletedProcess for `python script *args`, run in a
    child of the fork server."""
    context = _server()
    with tempfile.TemporaryDirectory(prefix="cli-") as scratch:
        out_path = os.path.join(scratch, "stdout")
        err_path = os.path.join(scratch, "stderr")
        for path in (out_path, err_path):
            open(path, "w").close()
        child = context.Process(target=_child, args=(
            script, list(args), cwd, dict(env), out_path, err_path))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired([script, *args], timeout)
        with open(out_path, encoding="utf-8", errors="replace") as f:
            stdout = f.read()
        with open(err_path, encoding="utf-8", errors="replace") as f:
            stderr = f.read()
    return subprocess.CompletedProcess([sys.executable, script, *args],
                                       child.exitcode, stdout, stderr)
