"""Every public op; spinla/__init__.py re-exports these names.

Each op module lists its public names in __all__; they are collected here, so adding an op
family is adding a module."""
import importlib as _importlib
import pkgutil as _pkgutil

from ._core import asarray, default_rounding, rounding  # noqa: F401

__all__ = ["default_rounding", "rounding"]
_owner = {}
for _m in sorted(m.name for m in _pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    _mod = _importlib.import_module(f"{__name__}.{_m}")
    for _n in _mod.__all__:
        # One definition per public name: two modules exporting the same name would make
        # the namespace depend on import order.
        if _n in _owner:
            raise ImportError(f"spinla.ops: {_n!r} is exported by both {_owner[_n]} and {_m}")
        _owner[_n] = _m
        globals()[_n] = getattr(_mod, _n)
        __all__.append(_n)
