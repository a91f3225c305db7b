"""Plumbing shared by the op modules: operand conversion, output buffers, rounding default."""
from __future__ import annotations

import contextlib
import numbers
import operator

import numpy as np

from .. import kernels, runtime, state
from ..array import Array
from ..fixed import BOOL, INT16, NEAREST, ROUNDING_MODES, Format, frac_for, parse_format, quantize
from ..machine import current as current_machine
from ..program import Buffer, Call

def default_rounding() -> str:
    return state.get_rounding()


@contextlib.contextmanager
def rounding(mode: str):
    """Use `mode` ('nearest' or 'stochastic') as the default rounding inside the block (this
    thread and context only: spinla/state.py)."""
    check_rounding("rounding", mode)
    with state.rounding_scope(mode):
        yield


def check_rounding(op, mode):
    if mode is None:
        return default_rounding()
    if mode not in ROUNDING_MODES:
        raise ValueError(f"{op}: unknown rounding mode {mode!r}; use 'nearest' or 'stochastic'")
    return mode


def _fmt_for_values(x: np.ndarray) -> Format:
    if x.dtype == np.bool_:
        return BOOL
    if np.issubdtype(x.dtype, np.integer):
        return INT16 if x.size == 0 or (x.min() >= -32768 and x.max() <= 32767) else Format(0)
    return Format(frac_for(float(np.max(np.abs(x))) if x.size else 0.0))


def _host_array(obj, op: str) -> np.ndarray:
    """obj as a bool, integer or float64 NumPy array; Python ints beyond int64 and other
    real numbers (Fraction, Decimal) become float64, ints beyond float64 are refused."""
    try:
        x = np.asarray(obj)
    except (ValueError, TypeError) as e:
        raise TypeError(f"{op}: cannot convert {type(obj).__name__} to an array ({e})") from None
    if x.dtype.kind == "O":
        try:
            x = np.asarray(obj, dtype=np.float64)
        except OverflowError:
            raise ValueError(f"{op}: a value is too large for any number format (beyond "
                             f"float64; spinla's largest value is 32767)") from None
        except (ValueError, TypeError):
            raise TypeError(f"{op}: cannot convert {type(obj).__name__} to an array of real "
                            f"numbers") from None
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{op}: unsupported dtype {x.dtype} (spinla takes bool, integer and "
                        f"real floating-point data)")
    return x


def asarray(obj, fmt=None, *, rounding=None, copy=None, dtype=None, device=None,
            op="asarray") -> Array:
    """Place host data on the machine as a q15 Array.

    fmt: a Format, frac count or name ('q3.12'); default: the finest format whose range holds
    the data (integers and booleans keep frac 0; in arithmetic with fixed-point operands they
    promote to a fixed format holding their values, see spinla.fixed).  Values beyond the
    format saturate, nonzero values below half an LSB underflow to 0: both counted in
    spinla.stats() and reported as spinla.errstate says.  NaN or infinity is 'invalid'
    (ValueError by default)."""
    if dtype is not None and fmt is None:
        fmt = dtype
    if isinstance(obj, Array):
        if fmt is None or parse_format(fmt) == obj.fmt:
            return obj.copy() if copy else obj  # copy=True: arrays can be written (x[k] = v)
        from .manipulation import astype
        return astype(obj, fmt, rounding=rounding)
    x = _host_array(obj, op)
    f = parse_format(fmt) if fmt is not None else None
    mode = check_rounding(op, rounding)
    invalid = 0
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        invalid = int(np.count_nonzero(bad))
        if invalid:
            if state.geterr()["invalid"] == "raise":
                raise ValueError(f"{op}: input contains NaN or infinity ({invalid} of "
                                 f"{x.size} values); spinla.errstate(invalid='warn') maps NaN "
                                 f"to 0 and infinity to the format's bounds")
            x = np.nan_to_num(x, nan=0.0, posinf=1e300, neginf=-1e300)
            if f is None:
                f = Format(frac_for(float(np.max(np.abs(np.where(bad, 0.0, x))))
                                    if x.size else 0.0))
    if f is None:
        f = _fmt_for_values(x)
    losses = {}
    if f.kind != "fixed":
        if x.dtype.kind == "f":
            data, sat = quantize(x, Format(0), mode, seed=runtime.next_seed()
                                 if mode != NEAREST else 0, losses=losses)
        else:
            data = np.clip(x, -32768, 32767) if x.dtype.kind != "b" else x
            sat = int(np.count_nonzero(data != x))
            data = data.astype(np.int16)
        if f.kind == "bool":
            bad = (data != 0) & (data != 1)
            sat += int(np.count_nonzero(bad))
            data = np.where(bad, data > 0, data).astype(np.int16)
    else:
        data, sat = quantize(x, f, mode, seed=runtime.next_seed() if mode != NEAREST else 0,
                             losses=losses)
    runtime.record(op, sat, call=False, invalid=invalid, **losses)
    from ..backends import upload
    return Array(upload(np.asarray(data, order="C"), f,  # keeps 0-d
                        kind="asarray" if op == "asarray" else "constant"))


def operand(x, op: str, like: Array | None = None) -> Array:
    """An op's operand: Arrays pass through, Python and NumPy numbers become constants."""
    if isinstance(x, Array):
        return x
    if isinstance(x, (numbers.Number, np.ndarray, np.generic, list, tuple)):
        return asarray(x, op=op)
    raise TypeError(f"{op}: unsupported operand type {type(x).__name__}")


def new_buffer(shape, fmt: Format) -> Buffer:
    return Buffer(shape, fmt)


# --- lowering, once per op structure ---------------------------------------------------------
# An eager op lowers a new Call every time, though a repeated op (the same shapes, formats,
# machine and parameters) always tiles the same way: the tiling is kept per structure and
# copied onto the new buffers, so a repeated eager op costs a dictionary lookup.  Formats are
# part of the key as the op decided them (those taken from data, spinla.fixed, are decided
# before lowering, from the data, every time); seeds are fixed when a Call runs
# (runtime.assign_seeds), so a copy gives the same bits as lowering afresh.
LOWERING_CACHE = True          # tests switch it off to compare with lowering afresh
_LOWERED: dict = {}
_LOWERED_MAX = 4096


def lowered(key, inputs, outputs, lower):
    """The Calls `lower()` makes over `inputs` and `outputs` (a list), from the Calls it made
    before for the same `key` (everything lower() reads besides the buffers' shapes and
    formats and the current machine, which are added here) with these buffers.  The copies
    share the tiling arrays (read-only) and start from the first Calls' params.  Seeds are not
    lowering's business (runtime.assign_seeds fixes them when the Call runs or its trace is
    finalised), so a copy is exactly what lowering would make.  A lowering into several Calls
    (a split sum, whose partials live in a Buffer of its own) gets fresh intermediate Buffers
    with each copy; one whose buffers repeat (x + x) is kept only if it is one Call, whose
    operands are replaced by position."""
    if not LOWERING_CACHE:
        return _as_list(lower())
    full, m, tpl = _kept(key, inputs, outputs)
    if tpl is None:
        calls = _as_list(lower())
        tpl = _template(calls, inputs, outputs)
        if tpl is not None:
            if len(_LOWERED) >= _LOWERED_MAX:
                _LOWERED.clear()
            _LOWERED[full] = (tpl, m)
        return calls
    if type(tpl) is Call:                  # one Call: its operands replaced by position
        c = _copy(tpl, inputs, outputs)
        kernels.same_arguments(c, tpl)     # its kernel binding is the template's, built once
        return [c]
    tcalls, (ins_at, outs_at, mids) = tpl
    bufs = [*inputs, *outputs] + [Buffer(b.shape, b.fmt, name=b.name) for b in mids]
    out = []
    for tc, ins, outs in zip(tcalls, ins_at, outs_at):
        c = _copy(tc, [bufs[i] for i in ins], [bufs[i] for i in outs])
        kernels.same_arguments(c, tc)
        out.append(c)
    return out


def run_lowered(key, inputs, outputs, lower) -> list:
    """run(lowered(key, inputs, outputs, lower), outputs): an op's Calls run now (eager) or
    recorded (traced), as Arrays of `outputs`.  An eager op whose lowering is kept as one Call
    runs that Call's kernel binding on the new buffers without copying it, when nothing could
    tell (runtime.emit_kept): a repeated eager op is then a dictionary look-up and a C call."""
    if LOWERING_CACHE:
        tpl = _kept(key, inputs, outputs)[2]
        if type(tpl) is Call and runtime.emit_kept(tpl, inputs, outputs):
            return [Array(b) for b in outputs]
    return run(lowered(key, inputs, outputs, lower), outputs)


def _kept(key, inputs, outputs):
    """(the cache key, the machine, the kept lowering or None) for these buffers."""
    # Formats by their fields and the machine by identity (checked below): their dataclass
    # hashes cost more than the rest of the look-up.
    m = current_machine()
    full = (key, tuple([(b.shape, b.fmt.frac, b.fmt.kind) for b in inputs]),
            tuple([(b.shape, b.fmt.frac, b.fmt.kind) for b in outputs]), id(m))
    t = _LOWERED.get(full)
    return full, m, (t[0] if t is not None and t[1] is m else None)


def _template(calls, inputs, outputs):
    """What the cache keeps of a lowering: data-less stand-ins of its buffers (their shapes and
    formats are what a binding reads, so the cache keeps no user array alive).  One Call: the
    Call over stand-ins.  Several: the Calls over stand-ins and, per Call, the positions of
    its buffers in [*inputs, *outputs, *intermediates], or None where a buffer repeats, a Call
    reads a buffer no earlier Call wrote (a constant made while lowering, whose data a copy
    would lack) or an intermediate is a view of another (a transpose's origin), which
    positions cannot say."""
    if len(calls) == 1:
        c = calls[0]
        if (len(c.inputs) != len(inputs) or len(c.outputs) != len(outputs)
                or any(a is not b for a, b in zip((*c.inputs, *c.outputs), (*inputs, *outputs)))):
            return None                # its operands are not these, position for position
        return _copy(c, [Buffer(b.shape, b.fmt) for b in inputs],
                     [Buffer(b.shape, b.fmt) for b in outputs])
    known = [*inputs, *outputs]
    if len({id(b) for b in known}) < len(known):
        return None
    pos = {id(b): i for i, b in enumerate(known)}
    mids = []
    for c in calls:
        for b in c.inputs:          # read before any Call wrote it: a constant, not kept
            if id(b) not in pos:
                return None
        for b in c.outputs:
            if id(b) not in pos:
                if b.origin is not None:
                    return None
                pos[id(b)] = len(known) + len(mids)
                mids.append(Buffer(b.shape, b.fmt, name=b.name))
    stand = [Buffer(b.shape, b.fmt) for b in known] + mids
    ins = [[pos[id(b)] for b in c.inputs] for c in calls]
    outs = [[pos[id(b)] for b in c.outputs] for c in calls]
    tcalls = [_copy(c, [stand[i] for i in i_], [stand[i] for i in o_])
              for c, i_, o_ in zip(calls, ins, outs)]
    return tcalls, (ins, outs, mids)


def _copy(call, inputs, outputs):
    """call over other buffers: its own params dict (whatever is added to one Call's params
    stays with that Call), the tiling arrays shared (read-only)."""
    c = Call.__new__(Call)
    c.__dict__.update(call.__dict__)
    c.params = dict(call.params)
    c.inputs, c.outputs = tuple(inputs), tuple(outputs)
    return c


def _as_list(calls) -> list:
    return list(calls) if isinstance(calls, (list, tuple)) else [calls]


def run(calls, outputs) -> list:
    """Emit calls and wrap their output buffers as Arrays."""
    runtime.emit(calls, outputs)
    return [Array(b) for b in outputs]


def machine():
    return current_machine()


def index_int(v, op: str, what: str = "axis") -> int:
    """operator.index(v) with an error naming the op: 1.5, '1' or None are not integers
    (True and False are refused too, as NumPy does for axes and shapes)."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{op}: {what} must be an integer, got {v!r}")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an integer, got {type(v).__name__} "
                        f"{v!r}") from None


def normalize_shape(shape, op: str) -> tuple:
    """A shape as a tuple of non-negative ints (an int means a 1-d shape)."""
    if isinstance(shape, (tuple, list)):
        dims = tuple(index_int(s, op, "shape entries") for s in shape)
    else:
        dims = (index_int(shape, op, "shape"),)
    if any(d < 0 for d in dims):
        raise ValueError(f"{op}: negative dimensions are not allowed, got shape {dims}")
    return dims


def normalize_axis(axis: int, ndim: int, op: str) -> int:
    axis = index_int(axis, op)
    if not -ndim <= axis < max(ndim, 1):
        raise np.exceptions.AxisError(f"{op}: axis {axis} is out of bounds for array of "
                                      f"dimension {ndim}")
    return axis % max(ndim, 1)


def broadcast_shapes(op: str, *shapes):
    if not shapes:
        return ()
    first = shapes[0]
    if len(shapes) == 2 and shapes[1] == first:  # the common cases, without NumPy's checks
        return tuple(first)
    if all(s == first for s in shapes[1:]):
        return tuple(first)
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"{op}: operands could not be broadcast together with shapes "
                         f"{' '.join(str(tuple(s)) for s in shapes)}") from None
