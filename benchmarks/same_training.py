"""Does a change leave MNIST-100 training as it was? Trains the same short
run from two commits and compares every tensor of their checkpoints.

    python benchmarks/same_training.py OLD [NEW] [--steps 300] [--seed 1]

NEW defaults to the working tree. Each commit is checked out into a
temporary git worktree and runs its own trainer.py (--preset mnist_100 on the
genuine MNIST) on this machine; the two runs share the CPU, so identical
means bit for bit. Prints the largest difference and exits 1 if any tensor
differs: accuracy figures measured on OLD then stand for NEW.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from benchmarks import common  # noqa: E402


def train(tree, dataset_dir, train_dir, steps, seed):
    """trainer.py of the tree at `tree`; returns its last checkpoint."""
    subprocess.run(
        [sys.executable, os.path.join(tree, "trainer.py"), "--preset",
         "mnist_100", "--dataset", "MNIST", "--dataset_dir", dataset_dir,
         "--train_dir", train_dir, "--run_name", "run", "--seed", str(seed),
         "--max_training_steps", str(steps), "--ckpt_save_step", str(steps),
         "--log_step", str(steps)], check=True, cwd=tree,
        env=dict(os.environ, PYTHONPATH=tree, TF_CPP_MIN_LOG_LEVEL="2"),
        stdout=subprocess.DEVNULL)
    return os.path.join(train_dir, "run", f"model-{steps}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default=None)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dataset_dir", default=os.path.join(ROOT, "datasets"))
    args = parser.parse_args()
    common.ensure_mnist(args.dataset_dir)
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    with tempfile.TemporaryDirectory() as scratch:
        checkpoints, names = [], []
        for commit in (args.old, args.new):
            tree = ROOT
            if commit:
                tree = os.path.join(scratch, f"tree-{len(names)}")
                subprocess.run(["git", "-C", ROOT, "worktree", "add",
                                "--detach", "-q", tree, commit], check=True)
            try:
                checkpoints.append(train(
                    tree, os.path.abspath(args.dataset_dir),
                    os.path.join(scratch, f"runs-{len(names)}"), args.steps,
                    args.seed))
            finally:
                if commit:
                    subprocess.run(["git", "-C", ROOT, "worktree", "remove",
                                    "--force", tree], check=False)
            names.append(commit or "working tree")
        readers = [tf.train.load_checkpoint(c) for c in checkpoints]
        keys = sorted(k for k in readers[0].get_variable_to_shape_map()
                      if "/.ATTRIBUTES/VARIABLE_VALUE" in k)
        other = set(readers[1].get_variable_to_shape_map())
        missing = [k for k in keys if k not in other]
        worst = max((float(np.max(np.abs(
            readers[0].get_tensor(k).astype(np.float64)
            - readers[1].get_tensor(k).astype(np.float64))))
            for k in keys if k not in missing), default=0.0)
    result = {"old": names[0], "new": names[1], "steps": args.steps,
              "seed": args.seed, "tensors": len(keys), "missing": missing,
              "max_abs_diff": worst,
              "identical": worst == 0.0 and not missing, **common.machine()}
    print(json.dumps(result, indent=2))
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
