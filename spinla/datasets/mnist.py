"""MNIST as uint8 numpy arrays, shaped like ``keras.datasets.mnist.load_data()``.

SpiNNaker experiments run on machines that often have no ML framework and no
internet, so the loader reads the original IDX files (or Keras's ``mnist.npz``)
from well-known folders first and only downloads as a last resort. Every file
is checked against a published SHA-256 before it is parsed, so a damaged or
substituted file fails loudly instead of skewing accuracy figures.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from .._io import atomic_write

from .idx import read_idx

__all__ = ["load_data", "data_dirs", "CHECKSUMS", "MIRRORS", "ChecksumError"]

_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
_NPZ = "mnist.npz"

# Looked up at call time, so tests may monkeypatch entries.
CHECKSUMS: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    _NPZ: "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",  # Keras's
}

# The MD5s published with the original distribution (yann.lecun.com), kept so
# the SHA-256 values above can be traced back to it; they are not checked.
_OFFICIAL_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

# yann.lecun.com itself now often refuses downloads, hence these mirrors.
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
_TIMEOUT_S = 60
_CHUNK = 1 << 16


class ChecksumError(ValueError):
    """A file's SHA-256 differs from the published one."""

    def __init__(self, path, expected: str, actual: str):
        self.path, self.expected, self.actual = str(path), expected, actual
        super().__init__(f"{path}: SHA-256 mismatch: expected {expected}, got {actual}")


def _cache_dir() -> Path:
    if os.environ.get("SPINLA_CACHE"):
        root = Path(os.environ["SPINLA_CACHE"])
    elif os.environ.get("XDG_CACHE_HOME"):
        root = Path(os.environ["XDG_CACHE_HOME"]) / "spinla"
    else:
        root = Path.home() / ".cache" / "spinla"
    return root.expanduser() / "mnist"


def data_dirs() -> list[Path]:
    """Folders searched, in order, for the four IDX .gz files or ``mnist.npz``."""
    dirs = []
    if os.environ.get("SPINLA_DATA"):
        dirs.append(Path(os.environ["SPINLA_DATA"]).expanduser() / "mnist")
    dirs.append(_cache_dir())
    keras_home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    dirs.append(Path(keras_home).expanduser() / "datasets")
    return dirs


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, key: str) -> None:
    actual = _sha256(path)
    if actual != CHECKSUMS[key]:
        raise ChecksumError(path, CHECKSUMS[key], actual)


def _check(arrays: dict, source) -> tuple:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise ValueError(f"{source}: {split} arrays are {x.dtype}/{y.dtype}, not uint8")
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{source}: {split} shapes {x.shape} and {y.shape} do not match")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_idx_dir(folder: Path) -> tuple:
    for name in _FILES.values():
        _verify(folder / name, name)
    return _check({k: read_idx(folder / name) for k, name in _FILES.items()}, folder)


def _load_npz(path: Path) -> tuple:
    _verify(path, _NPZ)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in _FILES}
    except (KeyError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a Keras-style mnist.npz ({exc})") from exc
    return _check(arrays, path)


def _scan(folder: Path):
    """Return (loader, None) if `folder` holds a usable copy, else (None, why not)."""
    if not folder.is_dir():
        return None, "no such folder"
    missing = [n for n in _FILES.values() if not (folder / n).is_file()]
    if not missing:
        return (lambda: _load_idx_dir(folder)), None
    if (folder / _NPZ).is_file():
        return (lambda: _load_npz(folder / _NPZ)), None
    return None, f"missing {', '.join(missing)} (and no {_NPZ})"


class _TextBar:
    """Fallback for when tqdm is not installed."""

    def __init__(self, total: int | None, desc: str):
        self.total, self.desc, self.n, self._shown = total, desc, 0, None

    def update(self, k: int) -> None:
        self.n += k
        step = int(100 * self.n / self.total) if self.total else self.n >> 20
        if step != self._shown:
            self._shown = step
            self._render()

    def _render(self) -> None:
        mb = self.n / 1e6
        if self.total:
            frac = min(self.n / self.total, 1.0)
            bar = "#" * int(30 * frac)
            line = f"{self.desc} [{bar:<30}] {100 * frac:3.0f}% {mb:.1f}/{self.total / 1e6:.1f} MB"
        else:
            line = f"{self.desc} {mb:.1f} MB"
        sys.stderr.write("\r" + line)
        sys.stderr.flush()

    def close(self) -> None:
        self._render()
        sys.stderr.write("\n")
        sys.stderr.flush()


def _bar(total: int | None, desc: str):
    try:
        from tqdm import tqdm
    except ImportError:
        return _TextBar(total, desc)
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)


def _fetch(url: str, dest: Path, show: bool) -> None:
    """Download `url` to `dest` via a temp file, renamed into place only once verified."""
    with atomic_write(dest) as out, urllib.request.urlopen(url, timeout=_TIMEOUT_S) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = _bar(total, dest.name) if show else None
        h, n = hashlib.sha256(), 0
        try:
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                h.update(chunk)
                n += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        if total is not None and n != total:
            raise OSError(f"connection closed after {n} of {total} bytes")
        if h.hexdigest() != CHECKSUMS[dest.name]:
            raise ChecksumError(url, CHECKSUMS[dest.name], h.hexdigest())


def _mirrors() -> list[str]:
    env = os.environ.get("SPINLA_MNIST_MIRRORS", "")
    return [m.strip() for m in env.split(",") if m.strip()] or list(MIRRORS)


def _download(folder: Path, show: bool) -> list[str]:
    """Fetch the missing IDX files into `folder`; return failure lines (empty on success)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [f"cannot create {folder}: {exc}"]
    for name in _FILES.values():
        if (folder / name).is_file():
            continue
        errors = []
        for base in _mirrors():
            url = base.rstrip("/") + "/" + name
            try:
                _fetch(url, folder / name, show)
                break
            except (OSError, ValueError, http.client.HTTPException) as exc:
                errors.append(f"{url}: {exc}")
        else:
            return errors
    return []


def load_data(path=None, *, download: bool = True, progress: bool | None = None):
    """Return ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays.

    `path` (a folder with the four IDX .gz files or ``mnist.npz``, or the
    ``.npz`` file itself) is used alone when given: a wrong explicit path is an
    error, not a cue to load some other copy. Otherwise ``data_dirs()`` is
    searched, then the files are downloaded into the cache when `download`.
    `progress` shows a download bar; None means "if stderr is a terminal".
    """
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return _load_npz(p)
        loader, why = _scan(p)
        if loader is None:
            raise FileNotFoundError(f"MNIST not found at {p}: {why}")
        return loader()

    searched = []
    for folder in data_dirs():
        loader, why = _scan(folder)
        if loader is not None:
            return loader()
        searched.append(f"  {folder}: {why}")

    cache = _cache_dir()
    if download:
        show = progress if progress is not None else bool(sys.stderr and sys.stderr.isatty())
        failures = _download(cache, show)
        if not failures:
            return _load_idx_dir(cache)
        tail = [f"Downloading into {cache} failed:"] + [f"  {f}" for f in failures]
    else:
        tail = ["Downloading is disabled (download=False)."]
    raise FileNotFoundError(
        "\n".join(
            ["MNIST not found. Searched:"] + searched + tail
            + [
                f"Set SPINLA_DATA to a folder whose mnist/ subfolder holds {', '.join(_FILES.values())}"
                f" (or {_NPZ}), or pass path= to load_data()."
            ]
        )
    )
