"""Eager execution, tracing (`spinla.jit`), loss statistics and reporting, run observers
(the per-context state itself lives in spinla/state.py).

Every op builds Calls over Buffers and hands them to `emit`.  Outside a trace they run at once
(the backend's run_op: as a one-op Program, or on the emulator with nobody observing, the
Call straight through its kernel; `emit_kept` runs an eager-op cache's kept Call so without
even copying it); inside `jit` they are recorded, and the traced Program then runs many times
with new inputs, which is how a whole training step becomes one Program.
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import replace

from . import state
from .backends import current as _backend
from .program import Buffer, Program
from .state import Stats, errstate, geterr, seterr  # noqa: F401  (re-exported)


class FixedPointWarning(UserWarning):
    """Base of spinla's warnings about fixed-point losses (see spinla.errstate)."""


class SaturationWarning(FixedPointWarning):
    """A fixed-point result was clamped to its format's range (counted in spinla.stats())."""


class UnderflowWarning(FixedPointWarning):
    """A nonzero host value became 0 in its format (counted in spinla.stats())."""


class InvalidValueWarning(FixedPointWarning):
    """NaN or infinity in host data was replaced (errstate(invalid='warn'))."""


class FixedPointError(FloatingPointError):
    """A fixed-point loss under errstate(...='raise')."""


_WARNING = {"saturate": SaturationWarning, "underflow": UnderflowWarning,
            "invalid": InvalidValueWarning}
_WHAT = {"saturate": "result(s) saturated to the range of their format",
         "underflow": "nonzero value(s) underflowed to 0 in their format",
         "invalid": "NaN or infinite value(s) replaced (NaN by 0, infinity by the format's "
                    "bound)"}


def stats() -> Stats:
    """A snapshot of this context's counters: stats().saturated[op], .underflowed[op],
    .rounded[op], .calls[op], stats().total_saturated."""
    return state.stats_obj().copy()


def reset_stats():
    state.stats_obj().clear()


def _user_stacklevel() -> int:
    """Stack level of the first frame outside spinla, so warnings point at user code."""
    import os
    import sys
    pkg = os.path.dirname(os.path.abspath(__file__))
    f, level = sys._getframe(1), 1
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(pkg):
        f, level = f.f_back, level + 1
    return level


def report(op: str, kind: str, count: int):
    """Apply the errstate action for `count` losses of `kind` in `op` (already counted).

    The warning text is the same for every call of an op, so Python's default warning filter
    shows it once per call site (module and line of the user's code), not once per process."""
    if not count:
        return
    action = state.geterr()[kind]
    if action == "ignore":
        return
    msg = f"{op}: {_WHAT[kind]} (counted in spinla.stats(); see spinla.errstate)"
    if action == "raise":
        raise FixedPointError(f"{msg}: {int(count)} value(s)")
    warnings.warn(msg, _WARNING[kind], stacklevel=_user_stacklevel())


def record(op: str, saturated: int, call: bool = True, *, underflowed: int = 0,
           rounded: int = 0, invalid: int = 0):
    """Count one kernel call of `op` (call=False: a host-side conversion, which only adds its
    losses) and its losses, then act on them as spinla.errstate says."""
    s = state.stats_obj()
    if call:
        s.calls[op] += 1
    if not (saturated or underflowed or rounded or invalid):
        return                          # the common case: nothing lost, nothing to report
    for name, n in (("saturated", saturated), ("underflowed", underflowed),
                    ("rounded", rounded), ("invalid", invalid)):
        if n:
            getattr(s, name)[op] += int(n)
    report(op, "invalid", invalid)
    report(op, "saturate", saturated)
    report(op, "underflow", underflowed)


# --- seeds --------------------------------------------------------------------------------

def seed(value: int):
    """Seed stochastic rounding in this context: the same seed and the same ops give the
    same bits (each thread, and each fit, has its own stream)."""
    state.set_seed(value)


def next_seed() -> int:
    """The next value of this context's seed stream (host conversions that round
    stochastically take one; so does every stochastic Call, through assign_seeds)."""
    from .kernels import lib
    s = state.seeds()
    s.counter += 1
    return int(lib.spl_seed_mix(s.base, s.counter))


def assign_seeds(calls) -> list:
    """`calls` with a fresh seed from this context's stream for each one that rounds
    stochastically, in order (copies: a Call may be shared, e.g. by a cache of lowerings).

    The one place a Call's seed is fixed: lowering leaves it unset (0).  An eager op's calls
    take theirs as they run (emit), which is when lowering used to draw them, so eager bits
    are unchanged; a traced Program takes its seeds when the trace is finalised, over the
    calls it keeps, in program order, so they depend on the Program and the stream, not on
    calls lowered while tracing and then dropped (Jitted.trace)."""
    return [_seeded(c, next_seed()) if c.stochastic else c for c in calls]


def _seeded(call, seed: int):
    """call with `seed`; it binds as call does (a binding reads a Call's seed at run time,
    never when it is built), so a cached eager lowering's binding serves its seeded copies."""
    from . import kernels
    c = replace(call, seed=seed)
    kernels.same_arguments(c, kernels.binding_owner(call))
    return c


# --- tracing ------------------------------------------------------------------------------

class Trace:
    def __init__(self):
        self.calls = []


def tracing() -> Trace | None:
    return state.trace.get()


@contextlib.contextmanager
def op_label(op: str):
    """Calls emitted inside the block carry the label `op` (a composite op built from other
    ops, e.g. a convolution lowered to a matrix product, is reported under its own name)."""
    prev = state.label.get()
    tok = state.label.set(prev or op)  # the outermost composite op names its parts
    try:
        yield
    finally:
        state.label.reset(tok)


def emit(calls, outputs):
    """Run `calls` now (eager) or record them (inside a trace); returns `outputs`."""
    label = state.label.get()
    if label is not None:
        for c in calls:
            c.op = label
    tr = state.trace.get()
    if tr is not None:
        tr.calls.extend(calls)      # seeded when the trace is finalised (Jitted.trace)
        return outputs
    results = _backend().run_op(assign_seeds(calls), outputs)
    for b, r in zip(outputs, results):
        b.data = r
    return outputs


def emit_kept(call, inputs, outputs) -> bool:
    """Run, now, a copy of the kept lowering `call` over `inputs` and `outputs` without making
    the copy, when nothing could tell (not tracing, and the backend runs unobserved Calls
    straight: Backend.straight): the same seed draw, label, counts and errors as emit() of the
    copy.  False: nothing ran (emit a copy instead)."""
    if state.trace.get() is not None:
        return False
    b = _backend()
    if not b.straight():
        return False
    seed = next_seed() if call.stochastic else 0
    results = b.run_kept(call, inputs, outputs, state.label.get() or call.op, seed)
    for buf, r in zip(outputs, results):
        buf.data = r
    return True


add_observer = state.add_observer
remove_observer = state.remove_observer
observing = state.observing


def notify(program: Program):
    """Tell this context's observers that `program` ran (observers that only watch transfers,
    spinla.backends, have no on_run)."""
    for obs in state.observers():
        on_run = getattr(obs, "on_run", None)
        if on_run is not None:
            on_run(program)


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

    def __init__(self, fn, name=None, batch_args=0, resident_args=()):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "jit")
        # An int: the first this many arguments; a tuple: those positions.
        self.batch_args = tuple(range(batch_args)) if isinstance(batch_args, int) else \
            tuple(int(i) for i in batch_args)
        self.resident_args = tuple(int(i) for i in resident_args)
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
            tok = state.trace.set(tr)
            try:
                out = self.fn(*[Array(b) for b in placeholders])
            finally:
                state.trace.reset(tok)
            flat, rebuild = _flatten(out)
            # Finalising the trace: the live calls, then their seeds in program order.
            prog = Program(calls=assign_seeds(_live_calls(tr.calls, flat)), inputs=placeholders,
                           outputs=[a.buffer for a in flat], machine=current(), name=self.name,
                           batch_inputs=[placeholders[i] for i in self.batch_args],
                           resident_inputs=[placeholders[i] for i in self.resident_args])
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


def jit(fn=None, *, name=None, batch_args=0, resident_args=()):
    """Trace `fn` (spinla Arrays in, spinla Arrays out) into one Program, run on every call.

    The Program is built on the first call for each combination of argument shapes, formats
    and machine, then reused: Python control flow runs once, at trace time.  Default output
    formats that eager execution takes from known data (an integer array's range, matmul's
    operand magnitudes, an array divisor; spinla.fixed) come from the formats while tracing,
    as the data is not known yet: pass fmt= where a traced result must equal the eager one.

    batch_args: the first this many arguments (or the arguments at these positions) hold one
    row per sample of a batch (their leading axis); a data-parallel placement splits them over
    its replicas (spinla.place).
    resident_args: positions of arguments that are loaded onto every chip before the Program
    runs and stay there across runs (a training set, the epoch's order of its rows): the
    placement holds them replicated on every chip (Program.resident_inputs), and the one-time
    loading is priced apart from the Program (spinla.mapping)."""
    if fn is None:
        return lambda f: Jitted(f, name, batch_args, resident_args)
    return Jitted(fn, name, batch_args, resident_args)
