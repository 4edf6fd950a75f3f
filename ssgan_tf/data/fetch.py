"""Getting upstream files, verified: HTTP with resume, local mirrors, checksums.

Every file is checked against a pinned SHA-256 before anything is built from
it. For gzip-compressed files whose compression differs between mirrors (MNIST)
the pin is on the decompressed payload, which is the same whatever the gzip.
"""

import dataclasses
import gzip
import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Optional

from ssgan_tf.errors import UserError

_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One upstream file.

    Attributes:
      name: its upstream name (e.g. `train-images-idx3-ubyte.gz`).
      sha256: the pinned SHA-256: of the decompressed payload when
        `payload_sha256`, else of the file's bytes.
      payload_sha256: whether the pin is on the gzip payload; such a file is
        also accepted uncompressed (its name without `.gz`).
    """

    name: str
    sha256: str
    payload_sha256: bool = False

    @property
    def plain_name(self):
        return self.name[:-3] if self.name.endswith(".gz") else self.name


class FetchError(Exception):
    """A source did not answer or was incomplete (worth trying the next one)."""


def sha256_of(path: str, payload: bool = False) -> str:
    """SHA-256 of a file's bytes, or of its gzip payload if it is gzip."""
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if payload and is_gzip else open
    try:
        with opener(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
    except (OSError, EOFError) as e:  # a truncated or corrupt gzip stream
        return f"unreadable ({e})"
    return digest.hexdigest()


def verify(path: str, remote: RemoteFile, origin: str, delete: bool = True):
    """Raises UserError if the file's hash is not the pinned one.

    Args:
      path: the file to check.
      remote: what it should be.
      origin: the URL or path to name in the message.
      delete: remove a mismatching file (a download; never a user's own file).
    """
    actual = sha256_of(path, remote.payload_sha256)
    if actual != remote.sha256:
        if delete:
            os.remove(path)
        what = "payload SHA-256" if remote.payload_sha256 else "SHA-256"
        raise UserError(f"{origin}: {what} mismatch for {remote.name}: expected "
                        f"{remote.sha256}, got {actual}; nothing was written")


class Progress:
    """A one-line progress bar on a terminal, start and end lines otherwise."""

    def __init__(self, label: str, total: Optional[int], done: int = 0,
                 stream=None):
        self.label, self.total, self.done = label, total, done
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0.0
        if not self.tty:
            print(f"downloading {label}", file=self.stream, flush=True)

    def update(self, count: int):
        self.done += count
        now = time.monotonic()
        if self.tty and now - self._last > 0.1:
            self._last = now
            self._draw()

    def _draw(self):
        mb = self.done / 1e6
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            text = (f"\r{self.label} [{bar:<30}] {frac:6.1%} "
                    f"{mb:.1f}/{self.total / 1e6:.1f} MB")
        else:
            text = f"\r{self.label} {mb:.1f} MB"
        self.stream.write(text)
        self.stream.flush()

    def close(self):
        if self.tty:
            self._draw()
            self.stream.write("\n")
        else:
            print(f"  {self.label}: {self.done / 1e6:.1f} MB", file=self.stream,
                  flush=True)


def http_fetch(url: str, dest: str, timeout: float = 30.0):
    """Downloads `url` to `dest`, resuming a `dest.part` left by a broken run.

    Raises:
      FetchError: the server did not answer, refused, or closed early (the
        partial file is kept, so the next call resumes it).
    """
    part = dest + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    headers = {"User-Agent": "ssgan-tf-download"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=timeout) as response:
            if have and response.status != 206:
                have = 0  # the server ignored the range: start again
            length = response.headers.get("Content-Length")
            total = int(length) + have if length is not None else None
            progress = Progress(os.path.basename(dest), total, have)
            with open(part, "ab" if have else "wb") as out:
                try:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        out.write(chunk)
                        progress.update(len(chunk))
                finally:
                    progress.close()
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # the range starts past the end: restart
            os.remove(part)
            raise FetchError(f"{url}: partial file was stale; run again") from None
        raise FetchError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        reason = getattr(e, "reason", None) or e
        raise FetchError(f"{url}: {reason}") from None
    size = os.path.getsize(part)
    if total is not None and size != total:
        raise FetchError(f"{url}: connection closed after {size} of {total} "
                         f"bytes; run again to resume")
    os.replace(part, dest)


def fetch_verified(remote: RemoteFile, base: str, staging: str) -> str:
    """A verified local copy of `remote` from base URL or folder `base`.

    Returns:
      The path of the verified file (in `staging` for URLs, in `base` itself
      for a local folder).

    Raises:
      FetchError: not found there or the download broke off.
      UserError: found, but its checksum is wrong.
    """
    done = os.path.join(staging, remote.name)
    if os.path.exists(done) and sha256_of(done, remote.payload_sha256) == \
            remote.sha256:
        return done
    if "://" not in base:  # a local folder: upstream names, gzip or not
        for name in dict.fromkeys((remote.name, remote.plain_name)):
            candidate = os.path.join(base, name)
            if os.path.isfile(candidate):
                verify(candidate, remote, candidate, delete=False)
                return candidate
        raise FetchError(f"{base}: no {remote.name}")
    url = base.rstrip("/") + "/" + remote.name
    http_fetch(url, done)
    verify(done, remote, url)
    return done
