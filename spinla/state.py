"""Per-context state of spinla: rounding mode, seed stream, run observers, statistics and
error handling, each in a `contextvars.ContextVar` (the current backend too, in
spinla/backends/__init__.py).

Why contextvars: a thread starts with an empty context, so two threads each running
`fit(seed=3)` get their own seed stream, their own counters and their own observers (a cost
meter in one thread no longer sees the other's Programs), and a `with` block (rounding,
errstate, a fit's scope) is undone on exit without touching any other thread or task.

Mutable state (the seed counter, the statistics) lives in an object that a context creates
on first use and keeps; `scope()` gives a block fresh ones (each fit and profile runs in
one), so what happens inside is counted and seeded apart from what happens outside; the
statistics of a scope are added to the enclosing scope's when it ends, so a user's
spinla.stats() still sees everything run below it.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections import defaultdict

from .fixed import NEAREST

DEFAULT_SEED = 0x5EED
ERR_KINDS = ("saturate", "underflow", "invalid")
ERR_ACTIONS = ("raise", "warn", "ignore")
# invalid (NaN/inf input) defaults to 'raise': NaN has no fixed-point value, so the only
# alternatives are a made-up number (0) or a clamped one, which a user must ask for.
DEFAULT_ERR = {"saturate": "warn", "underflow": "warn", "invalid": "raise"}


class Stats:
    """Per-op counts since the last reset: kernel calls, outputs saturated, host conversions
    that underflowed to zero (a nonzero value that became 0) and values rounded (inexact
    conversions of host data; counted, not warned: rounding is the format's job)."""

    def __init__(self):
        self.calls = defaultdict(int)
        self.saturated = defaultdict(int)
        self.underflowed = defaultdict(int)
        self.rounded = defaultdict(int)
        self.invalid = defaultdict(int)

    _FIELDS = ("calls", "saturated", "underflowed", "rounded", "invalid")

    @property
    def total_saturated(self) -> int:
        return sum(self.saturated.values())

    @property
    def total_underflowed(self) -> int:
        return sum(self.underflowed.values())

    @property
    def total_rounded(self) -> int:
        return sum(self.rounded.values())

    def copy(self) -> "Stats":
        s = Stats()
        s.add(self)
        return s

    def add(self, other: "Stats"):
        for name in self._FIELDS:
            mine = getattr(self, name)
            for k, v in getattr(other, name).items():
                mine[k] += v

    def clear(self):
        for name in self._FIELDS:
            getattr(self, name).clear()

    def __getitem__(self, op):
        return self.saturated.get(op, 0)

    def __repr__(self):
        ops = sorted(set().union(*(getattr(self, n) for n in self._FIELDS)))
        head = (f"{'op':<28s} {'calls':>9s} {'saturated':>11s} {'underflowed':>12s} "
                f"{'rounded':>11s}")
        rows = [f"{op:<28s} {self.calls.get(op, 0):>9d} {self.saturated.get(op, 0):>11d} "
                f"{self.underflowed.get(op, 0):>12d} {self.rounded.get(op, 0):>11d}"
                for op in ops]
        tail = (f"{'total':<28s} {sum(self.calls.values()):>9d} {self.total_saturated:>11d} "
                f"{self.total_underflowed:>12d} {self.total_rounded:>11d}")
        return "\n".join([head, *rows, tail])


class SeedStream:
    """A base seed and a counter: every stochastic op takes the next value."""

    def __init__(self, base: int = DEFAULT_SEED):
        self.base = int(base) & 0xFFFFFFFF
        self.counter = 0


_rounding: contextvars.ContextVar = contextvars.ContextVar("spinla_rounding", default=NEAREST)
_err: contextvars.ContextVar = contextvars.ContextVar("spinla_errstate", default=DEFAULT_ERR)
_observers: contextvars.ContextVar = contextvars.ContextVar("spinla_observers", default=())
_stats: contextvars.ContextVar = contextvars.ContextVar("spinla_stats", default=None)
_seeds: contextvars.ContextVar = contextvars.ContextVar("spinla_seeds", default=None)
_machine: contextvars.ContextVar = contextvars.ContextVar("spinla_machine", default=None)
trace: contextvars.ContextVar = contextvars.ContextVar("spinla_trace", default=None)
label: contextvars.ContextVar = contextvars.ContextVar("spinla_label", default=None)


def _own(var: contextvars.ContextVar, make):
    """This context's value of `var`, made (and set) on first use."""
    v = var.get()
    if v is None:
        v = make()
        var.set(v)
    return v


def stats_obj() -> Stats:
    return _own(_stats, Stats)


def seeds() -> SeedStream:
    return _own(_seeds, SeedStream)


def set_seed(value: int):
    _seeds.set(SeedStream(value))


# --- rounding -------------------------------------------------------------------------------

def get_rounding() -> str:
    return _rounding.get()


@contextlib.contextmanager
def rounding_scope(mode: str):
    tok = _rounding.set(mode)
    try:
        yield
    finally:
        _rounding.reset(tok)


# --- machine --------------------------------------------------------------------------------

def get_machine():
    return _machine.get()


def set_machine(m):
    _machine.set(m)


@contextlib.contextmanager
def machine_scope(m):
    tok = _machine.set(m)
    try:
        yield m
    finally:
        _machine.reset(tok)


# --- errors ---------------------------------------------------------------------------------

def _check_err(kw: dict, who: str) -> dict:
    for k, v in kw.items():
        if k not in ERR_KINDS:
            raise TypeError(f"{who}: unknown error kind {k!r}; use one of {', '.join(ERR_KINDS)}")
        if v not in ERR_ACTIONS:
            raise ValueError(f"{who}: {k}={v!r}; use one of {', '.join(map(repr, ERR_ACTIONS))}")
    return kw


def geterr() -> dict:
    """The current actions per kind of loss: {'saturate': 'warn', ...}."""
    return dict(_err.get())


def seterr(*, all=None, saturate=None, underflow=None, invalid=None) -> dict:  # noqa: A002
    """Set the actions in the current context (like numpy.seterr); returns the old ones."""
    old = geterr()
    _err.set(_merged(old, all, saturate, underflow, invalid, "seterr"))
    return old


def _merged(base, all_, saturate, underflow, invalid, who):
    kw = {}
    if all_ is not None:
        kw = {k: all_ for k in ERR_KINDS}
    for k, v in (("saturate", saturate), ("underflow", underflow), ("invalid", invalid)):
        if v is not None:
            kw[k] = v
    return {**base, **_check_err(kw, who)}


@contextlib.contextmanager
def errstate(*, all=None, saturate=None, underflow=None, invalid=None):  # noqa: A002
    """What to do with each kind of fixed-point loss inside the block, like numpy.errstate:
    'raise' (spinla.FixedPointError), 'warn' (a warning per call site, Python's normal
    warning rules) or 'ignore'.  The loss is counted in spinla.stats() whatever the action.

    saturate: a result clamped to its format's range; underflow: a nonzero host value that
    became 0 on conversion; invalid: NaN or infinity in host data (default 'raise'; 'warn' and
    'ignore' map NaN to 0 and +-inf to the format's bounds)."""
    tok = _err.set(_merged(_err.get(), all, saturate, underflow, invalid, "errstate"))
    try:
        yield
    finally:
        _err.reset(tok)


# --- observers ------------------------------------------------------------------------------

def observers() -> tuple:
    return _observers.get()


def add_observer(obs):
    _observers.set(_observers.get() + (obs,))


def remove_observer(obs):
    _observers.set(tuple(o for o in _observers.get() if o is not obs))


@contextlib.contextmanager
def observing(obs):
    """`obs.on_run(program)` for every Program run in this context inside the block."""
    tok = _observers.set(_observers.get() + (obs,))
    try:
        yield obs
    finally:
        _observers.reset(tok)


# --- scopes ---------------------------------------------------------------------------------

@contextlib.contextmanager
def scope(seed: int | None = None):
    """A block with its own statistics (added to the enclosing ones on exit) and, when seed
    is given, its own seed stream (the enclosing stream is untouched)."""
    outer = stats_obj()
    inner = Stats()
    t_stats = _stats.set(inner)
    t_seed = _seeds.set(SeedStream(seed)) if seed is not None else None
    try:
        yield inner
    finally:
        _stats.reset(t_stats)
        if t_seed is not None:
            _seeds.reset(t_seed)
        outer.add(inner)
