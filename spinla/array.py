"""The spinla Array: a q15 buffer with a shape and a fixed-point format, NumPy-like on top.

Operators and methods forward to the functions of the `spinla` namespace, which lower each op
into a Program (spinla/program.py) and run it on the emulator, or record it inside spinla.jit.
"""
from __future__ import annotations

import numpy as np

from .fixed import Format, dequantize
from .program import Buffer


_REPR_WHOLE = 10_000  # arrays larger than this are summarised without converting them whole


def _copy(x):
    from .kernels import copy as kcopy
    from .ops._core import machine, new_buffer, run
    out = new_buffer(x.shape, x.fmt)
    if x.size == 0:
        out.data = np.zeros(x.shape, np.int16)
        return Array(out)
    pc = kcopy.piece(0, x.shape)
    return run([kcopy.lower([x.buffer], out, [pc], machine=machine(), op="copy")], [out])[0]


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
        if copy is False:
            raise ValueError("a spinla Array cannot be viewed as a NumPy array without a "
                             "copy: its values are fixed-point integers that must be scaled")
        a = np.asarray(self.to_numpy())  # an ndarray even for 0-d (ldexp gives a scalar)
        return a.astype(dtype) if dtype is not None else a

    def __array_function__(self, func, types, args, kwargs):
        """NumPy functions on spinla Arrays (np.sum(a), np.mean(a, axis=0), ...): those
        spinla implements run on the machine and return Arrays (spinla/ops/_numpy_dispatch.py
        lists them); any other NumPy function gets the Arrays' values as NumPy arrays, as it
        would through __array__, and returns NumPy's result."""
        from .ops import _numpy_dispatch
        return _numpy_dispatch.dispatch(func, args, kwargs)

    def item(self):
        """The single element as a Python bool, int or float."""
        v = self._scalar()
        return v.item() if hasattr(v, "item") else v

    def copy(self):
        """A new Array with its own buffer (the copy kernel)."""
        from . import ops
        return _copy(self)

    def to_device(self, device, /, *, stream=None):
        if device is not self.device and device != self.device:
            raise ValueError(f"to_device: spinla arrays live on the current machine "
                             f"{self.device!r}; got {device!r}")
        return self

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack export of the values (float64; int64/bool for int16/bool arrays): the host
        copy that to_numpy() makes, since the int16 storage alone is not the value."""
        if copy is False:
            raise BufferError("spinla arrays export their values only by copy")
        return self.to_numpy().__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU: the exported values are host memory

    def __complex__(self):
        return complex(self._scalar())

    def tolist(self):
        return self.to_numpy().tolist()

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __bool__(self):
        return bool(self._scalar())

    def __index__(self):
        if self.fmt.kind != "int":
            raise TypeError(f"only int16 spinla arrays can be used as an index, not "
                            f"{self.fmt}")
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
        if self.size > _REPR_WHOLE:
            # Summarise the int16 storage (a view) and scale only the elements shown: a huge
            # array is never converted whole.
            f = self.fmt
            fmt_el = ((lambda v: repr(float(np.ldexp(float(v), -f.frac))))
                      if f.kind == "fixed" else (lambda v: repr(bool(v))) if f.kind == "bool"
                      else (lambda v: repr(int(v))))
            body = np.array2string(self.raw, separator=", ", threshold=50,
                                   prefix="spinla.Array(", formatter={"int": fmt_el})
            return f"spinla.Array({body}, fmt={f.name})"
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
        """NumPy's indexing rules (spinla/ops/selection.py): basic keys are views/copies,
        boolean scalars add an axis, masks and integer arrays gather on the machine."""
        from .ops import selection
        return selection.index(self, key)

    def __setitem__(self, key, value):
        """NumPy's assignment rules, written by the host (spinla/ops/selection.py assign)."""
        from .ops import selection
        selection.assign(self, key, value)

    def __matmul__(self, other):
        from . import ops
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        from . import ops
        return ops.matmul(other, self)


def _forward(name, fn_name, reflected=False):
    found = []      # the spinla function, looked up on first use (ops imports this module)

    def fn():
        if not found:
            from . import ops
            found.append(getattr(ops, fn_name))
        return found[0]

    if reflected:
        def method(self, *args, **kw):
            return fn()(args[0], self, **kw)
    else:
        def method(self, *args, **kw):
            return fn()(self, *args, **kw)
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
for _n, _f in [("__floordiv__", "floor_divide"), ("__mod__", "remainder"),
               ("__and__", "bitwise_and"), ("__or__", "bitwise_or"), ("__xor__", "bitwise_xor"),
               ("__invert__", "bitwise_invert"), ("__lshift__", "bitwise_left_shift"),
               ("__rshift__", "bitwise_right_shift"), ("prod", "prod"), ("var", "var"),
               ("std", "std"), ("all", "all"), ("any", "any")]:
    setattr(Array, _n, _forward(_n, _f))
_REFLECTED = [("__radd__", "add"), ("__rsub__", "subtract"), ("__rmul__", "multiply"),
              ("__rtruediv__", "divide"), ("__rfloordiv__", "floor_divide"),
              ("__rmod__", "remainder"), ("__rand__", "bitwise_and"), ("__ror__", "bitwise_or"),
              ("__rxor__", "bitwise_xor"), ("__rlshift__", "bitwise_left_shift"),
              ("__rrshift__", "bitwise_right_shift")]
for _n, _f in _REFLECTED:
    setattr(Array, _n, _forward(_n, _f, reflected=True))
# In-place operators rebind the name to the forward operator's new Array (spinla buffers are
# not written in place: a traced Program's inputs stay what they were).
for _n, _f in [("__iadd__", "add"), ("__isub__", "subtract"), ("__imul__", "multiply"),
               ("__itruediv__", "divide"), ("__ifloordiv__", "floor_divide"),
               ("__imod__", "remainder"), ("__ipow__", "pow"), ("__iand__", "bitwise_and"),
               ("__ior__", "bitwise_or"), ("__ixor__", "bitwise_xor"),
               ("__ilshift__", "bitwise_left_shift"), ("__irshift__", "bitwise_right_shift")]:
    setattr(Array, _n, _forward(_n, _f))


def _imatmul(self, other):
    from . import ops
    return ops.matmul(self, other)


Array.__imatmul__ = _imatmul
Array.__hash__ = None  # __eq__ is element-wise
