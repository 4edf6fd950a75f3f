"""Shared fixtures: a real HTTP server on 127.0.0.1, upstream-format files, tiny
datasets written in the real format, and a helper to run the CLIs."""

import gzip
import hashlib
import http.server
import io
import os
import subprocess
import sys
import tarfile
import threading

import numpy as np
import pytest

import cli_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MNIST = os.path.join(ROOT, "..", "shared", "datasets", "mnist")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the CLIs set it


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------ upstream formats


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def mnist_files(num_train=30, num_test=10, seed=0):
    """The four MNIST files (gzip IDX) and their payload hashes."""
    rng = np.random.RandomState(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.randint(0, 256, (num_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(num_train) % 10,
        "t10k-images-idx3-ubyte.gz": rng.randint(0, 256, (num_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(num_test) % 10,
    }
    files, hashes = {}, {}
    for name, array in arrays.items():
        payload = idx_bytes(array.astype(np.uint8))
        files[name] = gzip.compress(payload)
        hashes[name] = sha256(payload)
    return files, hashes, arrays


def svhn_files(num_train=12, num_test=6, seed=0):
    """SVHN's train/test_32x32.mat (MATLAB v5, labels 1..10 with 10 for 0)."""
    import scipy.io
    rng = np.random.RandomState(seed)
    files, arrays = {}, {}
    for name, count in (("train_32x32.mat", num_train),
                        ("test_32x32.mat", num_test)):
        images = rng.randint(0, 256, (count, 32, 32, 3)).astype(np.uint8)
        digits = np.arange(count) % 10
        buffer = io.BytesIO()
        scipy.io.savemat(buffer, {"X": images.transpose(1, 2, 3, 0),
                                  "y": np.where(digits == 0, 10, digits)
                                  .astype(np.uint8)[:, None]})
        files[name] = buffer.getvalue()
        arrays[name] = (images, digits)
    return files, {n: sha256(b) for n, b in files.items()}, arrays


def cifar10_files(per_batch=4, num_test=5, seed=0):
    """cifar-10-binary.tar.gz: five data batches and a test batch of records
    <1 label byte><1024 R><1024 G><1024 B>."""
    rng = np.random.RandomState(seed)
    buffer = io.BytesIO()
    arrays = {}
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
        for name in names:
            count = num_test if name == "test_batch.bin" else per_batch
            images = rng.randint(0, 256, (count, 32, 32, 3)).astype(np.uint8)
            labels = rng.randint(0, 10, count).astype(np.uint8)
            records = np.concatenate(
                [labels[:, None], images.transpose(0, 3, 1, 2).reshape(count, -1)],
                axis=1).astype(np.uint8).tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(records)
            tar.addfile(info, io.BytesIO(records))
            arrays[name] = (images, labels)
    data = buffer.getvalue()
    return {"cifar-10-binary.tar.gz": data}, \
        {"cifar-10-binary.tar.gz": sha256(data)}, arrays


# ------------------------------------------------------------ HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        server = self.server
        name = self.path.rsplit("/", 1)[-1]
        server.requests.append((self.path, self.headers.get("Range")))
        if name not in server.files:
            self.send_error(404)
            return
        data = server.files[name]
        start = 0
        ranged = self.headers.get("Range")
        if ranged and server.ranges:
            start = int(ranged.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range",
                             f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        drop = server.drop_after.pop(name, None)
        if drop is not None:  # send part of the body, then hang up
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def float64():
    """Keras' floatx float64 for one test: an equality test compares there,
    where rounding (~1e-16) cannot pass for a real difference on any CPU."""
    import keras
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    # a policy set earlier in this process (mixed precision's reset to
    # float32) would win over floatx: set both
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1 serving `server.files` {name: bytes}.

    `server.drop_after[name] = n` closes the connection after n bytes once;
    `server.ranges = False` makes it ignore Range requests.
    """
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files, server.drop_after, server.requests = {}, {}, []
    server.ranges = True
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/files"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# ------------------------------------------------------------ datasets and CLIs


def write_tiny_dataset(dataset_dir, name="tiny", count=40, shape=(8, 8, 1),
                       num_class=4, seed=0, splits=False):
    """A small dataset in the real format whose images depend on the label."""
    from ssgan_tf.data import format as data_format
    rng = np.random.RandomState(seed)
    labels = np.arange(count) % num_class
    base = rng.randint(0, 256, (num_class,) + tuple(shape))
    noise = rng.randint(-20, 21, (count,) + tuple(shape))
    images = np.clip(base[labels] + noise, 0, 255).astype(np.uint8)
    ids = [f"ex{i:04d}" for i in range(count)]
    split = None
    if splits:
        split = {"train": ids[: count * 3 // 4], "test": ids[count * 3 // 4:]}
    path = os.path.join(str(dataset_dir), name)
    data_format.write_dataset(path, ids, images, labels, num_class=num_class,
                              splits=split)
    return path, ids, images, labels


def run_cli(script, *args, cwd=None, timeout=600, env=None):
    """Runs one of the top-level CLIs (or a benchmark script) in a process of
    its own: forked from a server that has TensorFlow imported
    (`cli_server.py`), or, where `env` changes the environment, a fresh
    interpreter."""
    full_env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    full_env.update(env or {})
    path = os.path.join(ROOT, script)
    if env is None:
        return cli_server.run(path, args, cwd or ROOT, full_env, timeout)
    return subprocess.run([sys.executable, path, *args],
                          capture_output=True, text=True, cwd=cwd or ROOT,
                          timeout=timeout, env=full_env, check=False)


def assert_one_line_error(result, *fragments):
    """A user's mistake: exit status 2, one `error:` line naming the problem,
    no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A tiny trained run shared by the tests that only read it: (root with
    its dataset under data/, run folder, the trainer's stdout). Checkpoints at
    steps 10, 20 and 30; no weight average."""
    root = tmp_path_factory.mktemp("tiny_run")
    write_tiny_dataset(root / "data", count=66, shape=(12, 12, 1), splits=True)
    result = run_cli("trainer.py", "--dataset", "tiny", "--dataset_dir",
                     str(root / "data"), "--train_dir", str(root / "runs"),
                     "--batch_size", "8", "--n_z", "16",
                     "--max_training_steps", "30", "--ckpt_save_step", "10",
                     "--output_save_step", "10", "--test_sample_step", "10",
                     "--write_summary_step", "10", "--log_step", "10")
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = os.path.join(root / "runs", os.listdir(root / "runs")[0])
    return root, run_dir, result.stdout
