"""NumPy's __array_function__ protocol for spinla Arrays.

np.sum(a), np.mean(a, axis=0), np.concatenate([a, b]) ... call the spinla function of the
same meaning, on the machine, and return an Array.  NumPy's extra arguments are accepted
where they ask for nothing spinla cannot do: out=None, dtype=None (or a spinla format),
where=True, ddof (var/std's correction).  out= an array is refused with a TypeError naming
the function (spinla never writes into a caller's array).  NumPy functions that spinla does
not implement receive the Arrays' values as NumPy arrays, exactly as through __array__, and
return NumPy's own result (a NumPy array, never presented as a spinla Array).
"""
from __future__ import annotations

import inspect

import numpy as np

# NumPy function name -> (spinla name, {numpy argument: spinla keyword})
_TABLE = {
    "sum": ("sum", {}), "mean": ("mean", {}), "max": ("max", {}), "amax": ("max", {}),
    "min": ("min", {}), "amin": ("min", {}), "prod": ("prod", {}),
    "var": ("var", {"ddof": "correction"}), "std": ("std", {"ddof": "correction"}),
    "argmax": ("argmax", {}), "argmin": ("argmin", {}), "all": ("all", {}),
    "any": ("any", {}), "count_nonzero": ("count_nonzero", {}),
    "cumsum": ("cumulative_sum", {}), "cumprod": ("cumulative_prod", {}),
    "sort": ("sort", {}), "argsort": ("argsort", {}), "nonzero": ("nonzero", {}),
    "searchsorted": ("searchsorted", {}), "reshape": ("reshape", {"newshape": "shape"}),
    "transpose": ("permute_dims", {}), "concatenate": ("concat", {}), "stack": ("stack", {}),
    "squeeze": ("squeeze", {}), "expand_dims": ("expand_dims", {}),
    "moveaxis": ("moveaxis", {}), "roll": ("roll", {}), "tile": ("tile", {"reps": "repetitions"}),
    "repeat": ("repeat", {}), "flip": ("flip", {}), "broadcast_to": ("broadcast_to", {}),
    "where": ("where", {}), "clip": ("clip", {"a_min": "min", "a_max": "max"}),
    "tensordot": ("tensordot", {}), "take": ("take", {}), "diff": ("diff", {}),
    "tril": ("tril", {}), "triu": ("triu", {}), "take_along_axis": ("take_along_axis", {}),
    "matmul": ("matmul", {}), "copy": ("_copy", {}), "round": ("round", {}),
    "around": ("round", {}),
}
_ALWAYS_DROP = {"out": None, "dtype": None, "where": True, "order": None, "kind": None,
                "casting": None, "subok": None, "initial": None, "mean": None}


def _to_numpy(v):
    from ..array import Array
    if isinstance(v, Array):
        return v.to_numpy()
    if isinstance(v, (list, tuple)):
        return type(v)(_to_numpy(e) for e in v)
    return v


def _numpy_fallback(func, args, kwargs):
    return func(*_to_numpy(list(args)), **{k: _to_numpy(v) for k, v in kwargs.items()})


def dispatch(func, args, kwargs):
    import spinla
    name = func.__name__
    if name not in _TABLE:
        return _numpy_fallback(func, args, kwargs)
    target, rename = _TABLE[name]
    if target == "_copy":
        return args[0].copy()
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return _numpy_fallback(func, args, kwargs)
    params = list(bound.arguments.items())
    positional, kw = [], {}
    first = True
    for k, v in params:
        if v is np._NoValue:
            continue
        if first:  # the array (or sequence of arrays) argument
            positional.append(v)
            first = False
            continue
        if k == "out" and v is not None:
            raise TypeError(f"numpy.{name}: spinla arrays cannot write into out= (spinla never "
                            f"writes into a caller's array); use the returned Array")
        if k == "dtype" and v is not None:
            kw["fmt"] = v  # a spinla format; NumPy dtypes are refused by parse_format
            continue
        if k in _ALWAYS_DROP and v is _ALWAYS_DROP[k]:
            continue
        if k in ("where", "initial", "order", "kind", "mean", "casting", "subok"):
            raise TypeError(f"numpy.{name}: argument {k}={v!r} is not supported for spinla "
                            f"arrays")
        if k == "keepdims" and v is False:
            continue
        if name in ("where", "searchsorted", "tensordot", "take", "take_along_axis",
                    "matmul", "repeat", "tile", "moveaxis", "roll", "broadcast_to",
                    "reshape") and k in func_positional(name):
            positional.append(v)
            continue
        kw[rename.get(k, k)] = v
    fn = getattr(spinla, target)
    if name == "transpose" and len(positional) == 1 and "axes" not in kw:
        return fn(positional[0], tuple(reversed(range(positional[0].ndim))))
    if name == "where" and len(positional) == 1:
        return spinla.nonzero(positional[0])  # NumPy's one-argument where
    if name in ("round", "around"):
        if kw.pop("decimals", 0) != 0:
            raise TypeError(f"numpy.{name}: spinla rounds to integers only (decimals=0)")
        return fn(*positional, **kw)
    if name == "clip":
        a = positional[0]
        return fn(a, kw.pop("min", None), kw.pop("max", None), **kw)
    if name in ("argsort", "sort") and "axis" in kw and kw["axis"] is None:
        return fn(spinla.reshape(positional[0], (-1,)), **{k: v for k, v in kw.items()
                                                            if k != "axis"})
    return fn(*positional, **kw)


def func_positional(name):
    """NumPy arguments that spinla takes positionally for these functions."""
    return {"where": ("x", "y"), "searchsorted": ("v",), "tensordot": ("b",),
            "take": ("indices",), "take_along_axis": ("indices",), "matmul": ("x2",),
            "repeat": ("repeats",), "tile": ("reps",), "moveaxis": ("source", "destination"),
            "roll": ("shift",), "broadcast_to": ("shape",), "reshape": ("shape", "newshape")
            }[name]
