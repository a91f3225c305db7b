"""The namespace the Array API test suite (../shared/array-api-tests) runs against: spinla,
plus the two real dtype names the suite insists on.

Why an adapter: the suite cannot start without at least one of the names float32/float64
(it takes the "widest real dtype" of them), and it draws test data with
hypothesis.extra.array_api, which for a real dtype draws IEEE floats of finfo().bits and then
refuses any value the array module does not hold exactly.  spinla has no floating-point type:
its real numbers are 16-bit fixed-point formats (spinla/fixed.py).  So, for the suite only:

* float32 := q3.12 and float64 := q7.8.  The names say nothing about precision here; the
  pair is chosen so that the standard's promotion float32 + float64 -> float64 is also
  spinla's (the coarser format wins, since its range holds both).
* real-dtype test data are drawn on the format's grid (integers times 2**-frac within the
  requested bounds), so every drawn value is one the format holds.  Everything else the
  suite does (its expectations, tolerances, the ops it calls) is unchanged.

Nothing here changes spinla; `import spinla` is the library, this module is test plumbing.
"""
from __future__ import annotations

import builtins
import math

from hypothesis import strategies as st
from hypothesis.extra import array_api as _ha

import spinla
from spinla import *  # noqa: F401,F403  (shadows max, min, all...: use builtins.)
from spinla import __array_api_version__  # noqa: F401
from spinla.fixed import Format

float32 = spinla.q(12)
float64 = spinla.q(8)


class _Info(spinla._info.Info):
    def dtypes(self, *, device=None, kind=None):
        table = {"bool": spinla.bool, "int16": spinla.int16, "float32": float32,
                 "float64": float64}
        if kind is None:
            return table
        return {n: f for n, f in table.items() if spinla.isdtype(f, kind)}

    def default_dtypes(self, *, device=None):
        return {"real floating": float64, "complex floating": None,
                "integral": spinla.int16, "indexing": spinla.int16}


def __array_namespace_info__():
    return _Info()


_orig_from_dtype = _ha._from_dtype


def _grid_from_dtype(xp, api_version, dtype, *, min_value=None, max_value=None,
                     exclude_min=None, exclude_max=None, **kw):
    """Values on a fixed-point format's grid (see the module docstring)."""
    if isinstance(dtype, str) and dtype in ("float32", "float64"):
        dtype = globals()[dtype]
    if not (isinstance(dtype, Format) and dtype.kind == "fixed"):
        return _orig_from_dtype(xp, api_version, dtype, min_value=min_value,
                                max_value=max_value, exclude_min=exclude_min,
                                exclude_max=exclude_max, **kw)
    scale = 2 ** dtype.frac
    lo, hi = -32768, 32767
    clamp = 2.0 ** 16  # beyond every format: keeps min_value * scale finite
    if min_value is not None:
        min_value = builtins.min(builtins.max(min_value, -clamp), clamp)
    if max_value is not None:
        max_value = builtins.min(builtins.max(max_value, -clamp), clamp)
    if min_value is not None and math.isfinite(min_value):
        k = math.ceil(min_value * scale)
        lo = builtins.max(lo, k + 1 if exclude_min and k == min_value * scale else k)
    if max_value is not None and math.isfinite(max_value):
        k = math.floor(max_value * scale)
        hi = builtins.min(hi, k - 1 if exclude_max and k == max_value * scale else k)
    if lo > hi:
        return st.nothing()
    return st.integers(lo, hi).map(lambda k: k / scale)


_ha._from_dtype = _grid_from_dtype
