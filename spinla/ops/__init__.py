"""Every public op; spinla/__init__.py re-exports these names.

Each op module lists its public names in __all__; they are collected here, so adding an op
family is adding a module."""
import importlib as _importlib
import pkgutil as _pkgutil

from ._core import asarray, default_rounding, rounding  # noqa: F401

__all__ = ["asarray", "default_rounding", "rounding"]
for _m in sorted(m.name for m in _pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    _mod = _importlib.import_module(f"{__name__}.{_m}")
    for _n in _mod.__all__:
        globals()[_n] = getattr(_mod, _n)
        __all__.append(_n)
