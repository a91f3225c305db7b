"""Eager execution, tracing (`spinla.jit`), saturation statistics and run observers.

Every op builds Calls over Buffers and hands them to `emit`.  Outside a trace they run at once
as a one-op Program; inside `jit` they are recorded, and the traced Program then runs many
times with new inputs, which is how a whole training step becomes one Program.
"""
from __future__ import annotations

import contextlib
import threading
import warnings
from collections import defaultdict


from .program import Buffer, Program

_local = threading.local()


class SaturationWarning(UserWarning):
    """A fixed-point result was clamped to its format's range (counted in spinla.stats())."""


class Stats:
    """Per-op counts of kernel calls executed and of outputs saturated since the last reset
    (saturations of host-side conversions, e.g. asarray, count under their op too)."""

    def __init__(self):
        self.calls = defaultdict(int)
        self.saturated = defaultdict(int)

    @property
    def total_saturated(self) -> int:
        return sum(self.saturated.values())

    def copy(self) -> "Stats":
        s = Stats()
        s.calls.update(self.calls)
        s.saturated.update(self.saturated)
        return s

    def __getitem__(self, op):
        return self.saturated.get(op, 0)

    def __repr__(self):
        rows = [f"{op:<28s} {self.calls[op]:>9d} {self.saturated.get(op, 0):>11d}"
                for op in sorted(set(self.calls) | set(self.saturated))]
        head = f"{'op':<28s} {'calls':>9s} {'saturated':>11s}"
        return "\n".join([head, *rows, f"{'total':<28s} {sum(self.calls.values()):>9d} "
                                         f"{self.total_saturated:>11d}"])


_stats = Stats()
_warned: set = set()
_observers: list = []


def stats() -> Stats:
    """A snapshot of the saturation counters: stats().saturated[op], stats().total_saturated."""
    return _stats.copy()


def reset_stats():
    _stats.calls.clear()
    _stats.saturated.clear()
    _warned.clear()


def _user_stacklevel() -> int:
    """Stack level of the first frame outside spinla, so warnings point at user code."""
    import os
    import sys
    pkg = os.path.dirname(os.path.abspath(__file__))
    f, level = sys._getframe(1), 1
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(pkg):
        f, level = f.f_back, level + 1
    return level


def record(op: str, saturated: int, call: bool = True):
    """Count one kernel call of `op` (call=False: a host-side conversion, which only adds its
    saturations) and its saturated outputs."""
    if call:
        _stats.calls[op] += 1
    if saturated:
        _stats.saturated[op] += int(saturated)
        if op not in _warned:
            _warned.add(op)
            warnings.warn(f"{op}: {int(saturated)} result(s) saturated to the q15 range of "
                          f"their format (counted in spinla.stats(); further saturations of "
                          f"{op!r} are counted without a warning)", SaturationWarning,
                          stacklevel=_user_stacklevel())


# --- seeds --------------------------------------------------------------------------------

_seed = {"base": 0x5EED, "counter": 0}


def seed(value: int):
    """Seed stochastic rounding: the same seed and the same ops give the same bits."""
    _seed["base"] = int(value) & 0xFFFFFFFF
    _seed["counter"] = 0


def next_seed() -> int:
    from .kernels import lib
    _seed["counter"] += 1
    return int(lib.spl_seed_mix(_seed["base"], _seed["counter"]))


# --- tracing ------------------------------------------------------------------------------

class Trace:
    def __init__(self):
        self.calls = []


def tracing() -> Trace | None:
    return getattr(_local, "trace", None)


@contextlib.contextmanager
def op_label(op: str):
    """Calls emitted inside the block carry the label `op` (a composite op built from other
    ops, e.g. a convolution lowered to a matrix product, is reported under its own name)."""
    prev = getattr(_local, "label", None)
    _local.label = prev or op          # the outermost composite op names its parts
    try:
        yield
    finally:
        _local.label = prev


def emit(calls, outputs):
    """Run `calls` now (eager) or record them (inside a trace); returns `outputs`."""
    label = getattr(_local, "label", None)
    if label is not None:
        for c in calls:
            c.op = label
    tr = tracing()
    if tr is not None:
        tr.calls.extend(calls)
        return outputs
    from .backends import current as backend
    prog = Program(calls=list(calls), outputs=list(outputs), name=calls[0].op if calls else "")
    results = backend().run(prog, [], 0)
    for b, r in zip(outputs, results):
        b.data = r
    return outputs


def add_observer(obs):
    _observers.append(obs)


def remove_observer(obs):
    if obs in _observers:
        _observers.remove(obs)


def notify(program: Program):
    for obs in list(_observers):
        obs.on_run(program)


# --- jit ----------------------------------------------------------------------------------

def _flatten(out):
    from .array import Array
    if isinstance(out, Array):
        return [out], lambda xs: xs[0]
    if isinstance(out, (tuple, list)):
        parts = [_flatten(o) for o in out]
        sizes = [len(p[0]) for p in parts]

        def rebuild(xs, parts=parts, sizes=sizes, kind=type(out)):
            res, i = [], 0
            for (_, rb), n in zip(parts, sizes):
                res.append(rb(xs[i:i + n]))
                i += n
            return kind(res)
        return [a for p in parts for a in p[0]], rebuild
    if isinstance(out, dict):
        keys = list(out)
        flat, rb = _flatten([out[k] for k in keys])
        return flat, lambda xs: dict(zip(keys, rb(xs)))
    raise TypeError(f"spinla.jit: a traced function must return spinla Arrays (or tuples, "
                    f"lists, dicts of them), got {type(out).__name__}")


def _live_calls(calls, outputs):
    """Drop calls whose results nothing reads (e.g. a transpose that matmul looked through)."""
    needed = {a.buffer.id for a in outputs}
    live = []
    for c in reversed(calls):
        if any(b.id in needed for b in c.outputs):
            live.append(c)
            needed.update(b.id for b in c.inputs)
    return live[::-1]


class Jitted:
    """A function traced into one Program per (argument shapes and formats, machine)."""

    def __init__(self, fn, name=None):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "jit")
        self.programs = {}

    def trace(self, *args):
        from .array import Array
        from .machine import current
        for i, a in enumerate(args):
            if not isinstance(a, Array):
                raise TypeError(f"spinla.jit({self.name}): argument {i} must be a spinla "
                                f"Array, got {type(a).__name__}")
        key = (tuple((a.shape, a.fmt) for a in args), current().name)
        entry = self.programs.get(key)
        if entry is None:
            placeholders = [Buffer(a.shape, a.fmt, name=f"arg{i}") for i, a in enumerate(args)]
            tr = Trace()
            prev = tracing()
            _local.trace = tr
            try:
                out = self.fn(*[Array(b) for b in placeholders])
            finally:
                _local.trace = prev
            flat, rebuild = _flatten(out)
            prog = Program(calls=_live_calls(tr.calls, flat), inputs=placeholders,
                           outputs=[a.buffer for a in flat], machine=current(), name=self.name)
            entry = self.programs[key] = (prog, rebuild)
        return entry

    def program(self, *args) -> Program:
        return self.trace(*args)[0]

    def __call__(self, *args):
        from .array import Array
        from .backends import current as backend
        prog, rebuild = self.trace(*args)
        results = backend().run(prog, [a.buffer.data for a in args], prog.runs)
        outs = [Array(Buffer(b.shape, b.fmt, data=r)) for b, r in zip(prog.outputs, results)]
        return rebuild(outs)


def jit(fn=None, *, name=None):
    """Trace `fn` (spinla Arrays in, spinla Arrays out) into one Program, run on every call.

    The Program is built on the first call for each combination of argument shapes, formats
    and machine, then reused: Python control flow runs once, at trace time."""
    if fn is None:
        return lambda f: Jitted(f, name)
    return Jitted(fn, name)
