"""The spinla Array: a q15 buffer with a shape and a fixed-point format, NumPy-like on top.

Operators and methods forward to the functions of the `spinla` namespace, which lower each op
into a Program (spinla/program.py) and run it on the emulator, or record it inside spinla.jit.
"""
from __future__ import annotations

import numpy as np

from .fixed import Format, dequantize
from .program import Buffer


class Array:
    __slots__ = ("buffer", "__weakref__")
    __array_priority__ = 100  # NumPy defers mixed operators to us

    def __init__(self, buffer: Buffer):
        self.buffer = buffer

    # --- attributes --------------------------------------------------------------------
    @property
    def shape(self):
        return self.buffer.shape

    @property
    def ndim(self):
        return len(self.buffer.shape)

    @property
    def size(self):
        return self.buffer.size

    @property
    def fmt(self) -> Format:
        return self.buffer.fmt

    dtype = fmt

    @property
    def device(self):
        from .machine import current
        return current()

    @property
    def T(self):
        if self.ndim != 2:
            raise ValueError(f"Array.T needs a 2-d array, got {self.ndim}-d "
                             f"(use spinla.permute_dims for other ranks)")
        return self.transpose()

    @property
    def mT(self):
        from . import ops
        return ops.matrix_transpose(self)

    def __array_namespace__(self, *, api_version=None):
        import spinla
        return spinla

    # --- data in and out ---------------------------------------------------------------
    @property
    def raw(self) -> np.ndarray:
        """The int16 storage (a copy-free view); raises inside spinla.jit."""
        d = self.buffer.data
        if d is None:
            raise RuntimeError("this Array is a placeholder inside spinla.jit: its value is "
                               "known only when the traced Program runs")
        return d

    def to_numpy(self) -> np.ndarray:
        """float64 values (int64 for int16 arrays, bool for comparisons)."""
        return dequantize(self.raw, self.fmt)

    def __array__(self, dtype=None, copy=None):
        a = self.to_numpy()
        return a.astype(dtype) if dtype is not None else a

    def tolist(self):
        return self.to_numpy().tolist()

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __bool__(self):
        return bool(self._scalar())

    def __index__(self):
        if self.fmt.kind == "fixed":
            raise TypeError("only int16 spinla arrays can be used as an index")
        return int(self._scalar())

    def _scalar(self):
        if self.size != 1:
            raise TypeError(f"only size-1 arrays convert to Python scalars, shape {self.shape}")
        return self.to_numpy().reshape(())[()]

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        if self.buffer.data is None:
            return f"spinla.Array<traced>(shape={self.shape}, fmt={self.fmt.name})"
        body = np.array2string(self.to_numpy(), separator=", ", threshold=50,
                               prefix="spinla.Array(")
        return f"spinla.Array({body}, fmt={self.fmt.name})"

    # --- methods -----------------------------------------------------------------------
    def reshape(self, *shape, copy=None):
        from . import ops
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def transpose(self, *axes):
        from . import ops
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.permute_dims(self, axes or tuple(reversed(range(self.ndim))))

    def astype(self, fmt, *, rounding=None):
        from . import ops
        return ops.astype(self, fmt, rounding=rounding)

    def flatten(self):
        return self.reshape((self.size,))

    def __getitem__(self, key):
        from . import ops
        return ops.getitem(self, key)

    def __matmul__(self, other):
        from . import ops
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        from . import ops
        return ops.matmul(other, self)


def _forward(name, fn_name, reflected=False):
    def method(self, *args, **kw):
        from . import ops
        fn = getattr(ops, fn_name)
        if reflected:
            return fn(args[0], self, **kw)
        return fn(self, *args, **kw)
    method.__name__ = name
    return method


for _n, _f in [("__add__", "add"), ("__sub__", "subtract"), ("__mul__", "multiply"),
               ("__truediv__", "divide"), ("__lt__", "less"), ("__le__", "less_equal"),
               ("__gt__", "greater"), ("__ge__", "greater_equal"), ("__eq__", "equal"),
               ("__ne__", "not_equal"), ("__neg__", "negative"), ("__abs__", "abs"),
               ("__pos__", "positive"), ("__pow__", "pow"),
               ("sum", "sum"), ("mean", "mean"), ("max", "max"), ("min", "min"),
               ("argmax", "argmax"), ("argmin", "argmin")]:
    setattr(Array, _n, _forward(_n, _f))
for _n, _f in [("__radd__", "add"), ("__rsub__", "subtract"), ("__rmul__", "multiply"),
               ("__rtruediv__", "divide")]:
    setattr(Array, _n, _forward(_n, _f, reflected=True))
Array.__hash__ = None  # __eq__ is element-wise
