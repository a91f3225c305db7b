"""IDX files (the MNIST container format), read and written with numpy only.

Reading is strict on purpose: a header that promises more (or fewer) bytes
than are present means the file is damaged, and handing back a partial array
would let a truncated download pass silently into a benchmark.
"""

from __future__ import annotations

import gzip as _gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["parse_idx", "read_idx", "write_idx"]

# IDX type codes; every multi-byte type is big-endian in the file.
_CODE_TO_DTYPE = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _dtype_code(dtype: np.dtype) -> int:
    for code, idx_dtype in _CODE_TO_DTYPE.items():
        if idx_dtype.kind == dtype.kind and idx_dtype.itemsize == dtype.itemsize:
            return code
    raise ValueError(f"dtype {dtype} has no IDX type code")


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode raw (already gunzipped) IDX bytes; `name` only labels errors."""
    if len(data) < 4:
        raise ValueError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    zero0, zero1, code, ndim = data[:4]
    if zero0 or zero1 or ndim == 0:
        raise ValueError(f"{name}: bad IDX magic 0x{data[:4].hex()}")
    if code not in _CODE_TO_DTYPE:
        raise ValueError(f"{name}: unknown IDX data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(data)} of {header} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _CODE_TO_DTYPE[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: IDX data {what}: header shape {dims} needs {expected} bytes, found {got}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    # A native-order, writable copy: callers scale and normalise in place.
    return np.array(arr, dtype=dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gunzipping it first when it starts with the gzip magic."""
    name = os.fspath(path)
    data = Path(path).read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = _gzip.decompress(data)
        except EOFError as exc:
            raise ValueError(f"{name}: truncated gzip stream ({exc})") from exc
        except (OSError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"{name}: corrupt gzip stream ({exc})") from exc
    return parse_idx(data, name)


def write_idx(path: str | os.PathLike, array, gzip: bool = True) -> Path:
    """Write `array` as IDX, for synthetic test data and exported datasets.

    The gzip header carries mtime 0 so that equal arrays give equal bytes,
    which keeps checksums of generated files reproducible.
    """
    arr = np.asarray(array)
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {arr.ndim}")
    if any(d > 0xFFFFFFFF for d in arr.shape):
        raise ValueError(f"shape {arr.shape} does not fit IDX uint32 dimensions")
    code = _dtype_code(arr.dtype)
    payload = (
        bytes([0, 0, code, arr.ndim])
        + struct.pack(f">{arr.ndim}I", *arr.shape)
        + np.ascontiguousarray(arr, dtype=_CODE_TO_DTYPE[code]).tobytes()
    )
    if gzip:
        payload = _gzip.compress(payload, mtime=0)
    path = Path(path)
    path.write_bytes(payload)
    return path
