"""Tests for spinla.datasets: IDX round trips, MNIST search order, checksums, downloads."""

import functools
import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from spinla.datasets import mnist
from spinla.datasets.idx import parse_idx, read_idx, write_idx

NAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 7, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Isolate from the real home, caches and proxies; return the tmp root."""
    home = tmp_path / "home"
    home.mkdir()
    for var in ("SPINLA_DATA", "SPINLA_MNIST_MIRRORS", "XDG_CACHE_HOME",
                "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KERAS_HOME", str(home / ".keras"))
    monkeypatch.setenv("SPINLA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return tmp_path


@pytest.fixture
def idx_dir(tmp_path, arrays, monkeypatch):
    """Synthetic MNIST as the four gz files, with CHECKSUMS patched to match."""
    folder = tmp_path / "src" / "mnist"
    folder.mkdir(parents=True)
    for key, name in NAMES.items():
        write_idx(folder / name, arrays[key])
        monkeypatch.setitem(mnist.CHECKSUMS, name, sha(folder / name))
    return folder


def assert_same(result, arrays):
    (xtr, ytr), (xte, yte) = result
    for got, key in ((xtr, "x_train"), (ytr, "y_train"), (xte, "x_test"), (yte, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


# --- IDX ---------------------------------------------------------------------

@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip(tmp_path, compress):
    a = np.arange(-6, 6, dtype=np.int16).reshape(3, 4)
    p = write_idx(tmp_path / "a.idx", a, gzip=compress)
    raw = p.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == compress
    header = (gzip.decompress(raw) if compress else raw)[:12]
    assert header == b"\x00\x00\x0b\x02" + (3).to_bytes(4, "big") + (4).to_bytes(4, "big")
    b = read_idx(p)
    assert b.dtype == np.int16 and b.flags.writeable
    np.testing.assert_array_equal(a, b)


def test_idx_truncated_and_trailing(tmp_path):
    data = gzip.decompress(write_idx(tmp_path / "l.gz", np.zeros(5, np.uint8)).read_bytes())
    with pytest.raises(ValueError, match="truncated"):
        parse_idx(data[:-1], "x")
    with pytest.raises(ValueError, match="trailing"):
        parse_idx(data + b"\0", "x")
    with pytest.raises(ValueError, match="unknown IDX data type code 0x07"):
        parse_idx(b"\x00\x00\x07\x01" + data[4:], "x")


def test_idx_bad_magic(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(gzip.compress(b"\x01\x02\x08\x01" + (1).to_bytes(4, "big") + b"\x05"))
    with pytest.raises(ValueError, match=r"bad\.gz: bad IDX magic 0x01020801"):
        read_idx(p)


# --- local search --------------------------------------------------------------

def test_load_from_spinla_data(env, idx_dir, arrays, monkeypatch):
    monkeypatch.setenv("SPINLA_DATA", str(idx_dir.parent))
    assert mnist.data_dirs()[0] == idx_dir
    assert_same(mnist.load_data(download=False), arrays)


def test_load_from_path(env, idx_dir, arrays):
    assert_same(mnist.load_data(idx_dir, download=False), arrays)


def test_load_npz_path_and_keras_cache(env, arrays, monkeypatch):
    npz = env / "home" / ".keras" / "datasets" / "mnist.npz"
    npz.parent.mkdir(parents=True)
    np.savez(npz, **arrays)
    monkeypatch.setitem(mnist.CHECKSUMS, "mnist.npz", sha(npz))
    assert_same(mnist.load_data(npz), arrays)
    assert_same(mnist.load_data(download=False), arrays)  # found via $KERAS_HOME


def test_npz_checksum_checked(env, arrays):
    npz = env / "m.npz"
    np.savez(npz, **arrays)
    with pytest.raises(mnist.ChecksumError, match="731c5ac6"):
        mnist.load_data(npz)


def test_checksum_mismatch_names_file_and_hashes(env, idx_dir, monkeypatch):
    name = NAMES["y_test"]
    monkeypatch.setitem(mnist.CHECKSUMS, name, "0" * 64)
    with pytest.raises(mnist.ChecksumError) as info:
        mnist.load_data(idx_dir)
    msg = str(info.value)
    assert str(idx_dir / name) in msg and "0" * 64 in msg and sha(idx_dir / name) in msg
    assert isinstance(info.value, ValueError)


def test_truncated_gz_names_file(env, idx_dir, monkeypatch):
    p = idx_dir / NAMES["x_train"]
    p.write_bytes(p.read_bytes()[:-20])
    monkeypatch.setitem(mnist.CHECKSUMS, p.name, sha(p))  # get past the checksum to the parser
    with pytest.raises(ValueError, match=f"{p}: truncated gzip stream"):
        mnist.load_data(idx_dir)


def test_bad_magic_via_load_data(env, idx_dir, monkeypatch):
    p = idx_dir / NAMES["y_train"]
    p.write_bytes(gzip.compress(b"\x00\x01\x08\x01" + gzip.decompress(p.read_bytes())[4:]))
    monkeypatch.setitem(mnist.CHECKSUMS, p.name, sha(p))
    with pytest.raises(ValueError, match="bad IDX magic"):
        mnist.load_data(idx_dir)


def test_not_found_lists_folders(env, monkeypatch):
    monkeypatch.setenv("SPINLA_DATA", str(env / "nowhere"))
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data(download=False)
    msg = str(info.value)
    assert len(mnist.data_dirs()) == 3
    for folder in mnist.data_dirs():
        assert str(folder) in msg
    assert "SPINLA_DATA" in msg and "download=False" in msg
    with pytest.raises(FileNotFoundError, match="no such folder"):
        mnist.load_data(env / "nowhere", download=False)


# --- downloads ----------------------------------------------------------------

@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server for tmp_path/www; yields its base URL."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", www
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def dead_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # closed: connection refused


def test_download_with_mirror_fallback(env, idx_dir, arrays, server, monkeypatch, capsys):
    url, www = server
    for name in NAMES.values():
        (www / name).write_bytes((idx_dir / name).read_bytes())
    monkeypatch.setenv("SPINLA_MNIST_MIRRORS", f"{dead_url()}, {url}")
    assert_same(mnist.load_data(progress=True), arrays)
    cache = env / "cache" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES.values())  # no .part left
    assert NAMES["x_train"] in capsys.readouterr().err  # a progress bar was drawn
    for name in NAMES.values():
        (www / name).unlink()
    assert_same(mnist.load_data(download=False), arrays)  # now served from the cache


def test_corrupt_download_leaves_nothing(env, idx_dir, server, monkeypatch):
    url, www = server
    for name in NAMES.values():
        (www / name).write_bytes((idx_dir / name).read_bytes())
    bad = NAMES["x_test"]
    (www / bad).write_bytes(b"not the real file")
    dead = dead_url()
    monkeypatch.setenv("SPINLA_MNIST_MIRRORS", f"{dead},{url}")
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data(progress=False)
    msg = str(info.value)
    assert f"{dead}{bad}" in msg and f"{url}{bad}: " in msg and "SHA-256 mismatch" in msg
    assert mnist.CHECKSUMS[bad] in msg and "SPINLA_DATA" in msg
    cache = env / "cache" / "mnist"
    assert not (cache / bad).exists()
    assert not [p for p in cache.iterdir() if p.name.endswith(".part")]
    for name in (NAMES["x_train"], NAMES["y_train"]):  # verified before the bad one: kept
        assert sha(cache / name) == mnist.CHECKSUMS[name]


# --- the real data --------------------------------------------------------------

# Read at import: the `env` fixture unsets SPINLA_DATA before the test body runs.
REAL_ROOT = Path(os.environ.get("SPINLA_DATA") or Path(__file__).resolve().parents[2] / "shared" / "datasets")


@pytest.mark.skipif(
    not all((REAL_ROOT / "mnist" / n).is_file() for n in NAMES.values()),
    reason=f"real MNIST IDX files not found in {REAL_ROOT / 'mnist'} (set SPINLA_DATA)",
)
def test_real_mnist(env, monkeypatch):
    monkeypatch.setenv("SPINLA_DATA", str(REAL_ROOT))
    (xtr, ytr), (xte, yte) = mnist.load_data(download=False)
    assert xtr.shape == (60000, 28, 28) and ytr.shape == (60000,)
    assert xte.shape == (10000, 28, 28) and yte.shape == (10000,)
    assert xtr.dtype == ytr.dtype == xte.dtype == yte.dtype == np.uint8
    assert np.bincount(ytr).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(yte).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
