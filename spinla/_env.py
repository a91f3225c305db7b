"""spinla's settings from the environment, read cheaply.

Every eager op asks for a few (SPINLA_THREADS, which kernel bindings bake in; SPINLA_CHECKED;
SPINLA_PROGRAM_C), and they may change between ops (a test's monkeypatch, a user's
os.environ[...] = ...), so they are read each time rather than once.  os.environ.get spends
about half a microsecond encoding the name and decoding the value through the Mapping
machinery; on POSIX the mapping keeps the bytes it was given in `os.environ._data`, which every
change made through os.environ updates, so reading that dict sees exactly what os.environ.get
sees at an eighth of the cost.  Elsewhere (or should CPython change that attribute) this falls
back to os.environ.get."""
from __future__ import annotations

import os
import sys

_DATA = getattr(os.environ, "_data", None)
_ENCODING = sys.getfilesystemencoding()

if os.name == "posix" and isinstance(_DATA, dict):
    def get(name: str, default: str | None = None) -> str | None:
        """os.environ.get(name, default)."""
        v = _DATA.get(name.encode(_ENCODING, "surrogateescape"))
        return default if v is None else v.decode(_ENCODING, "surrogateescape")
else:  # pragma: no cover - Windows keeps str keys, upper-cased
    def get(name: str, default: str | None = None) -> str | None:
        """os.environ.get(name, default)."""
        return os.environ.get(name, default)
