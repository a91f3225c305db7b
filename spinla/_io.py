"""Writing files the user owns without ever leaving a half-written one under the final name."""
from __future__ import annotations

import contextlib
import os
import tempfile


def _default_mode() -> int:
    """0666 less the process umask: the mode a plainly created file gets."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Yield a file in the destination's folder; on a clean exit it is flushed, synced and
    renamed over `path` in one step; on any exception it is deleted and `path` is untouched.
    Raise inside the block to reject what was written (e.g. a checksum mismatch)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.chmod(tmp, _default_mode())   # mkstemp's 0600 -> what open() would give
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
