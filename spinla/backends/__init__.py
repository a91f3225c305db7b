"""The seam between spinla and whatever runs a Program: a Backend uploads host data to the
machine, runs Programs on it and downloads results.

The host emulator (spinla.backends.emulator) is one Backend; the SpiNNaker board backend is to
be a second.  Every host-to-machine transfer goes through `upload` (asarray, constants, the
nn data placement, learning-rate scalars, model loading, jit arguments), so each one is
recorded as a Transfer that the context's observers (spinla.state.observing, e.g.
spinla.profile) see and the cost model prices over the
board's host link (spinla.cost.transfer_cost).
"""
from __future__ import annotations

import contextlib
import contextvars
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .. import state

# Kinds of host-to-machine transfer, each named where it happens.
KINDS = ("asarray", "constant", "dataset", "order", "scalar", "model", "jit_arg")


@dataclass(frozen=True)
class Transfer:
    """One host-to-machine (direction 'up') or machine-to-host ('down') transfer."""

    kind: str
    nbytes: int
    direction: str = "up"
    buffer_id: int = -1


class Backend(ABC):
    """upload(data, fmt, kind) -> Buffer on the machine; run(program, args, run_index) ->
    output arrays; download(buffer) -> NumPy int16 array.  Subclasses record transfers through
    `_record`, which keeps per-kind byte counts and tells the observers."""

    name = "backend"

    def __init__(self):
        self.bytes_up = {k: 0 for k in KINDS}
        self.bytes_down = 0

    @abstractmethod
    def upload(self, data: np.ndarray, fmt, *, kind: str, name: str | None = None):
        """Place `data` (int16, already in `fmt`) on the machine; returns its Buffer."""

    @abstractmethod
    def run(self, program, args, run_index: int) -> list:
        """Run `program` once with `args` (arrays bound to program.inputs); run_index picks
        the stochastic-rounding stream of this run."""

    @abstractmethod
    def download(self, buffer) -> np.ndarray:
        """The contents of `buffer` as a NumPy int16 array."""

    def run_op(self, calls, outputs) -> list:
        """Run an eager op's `calls` (seeded) now, over buffers that hold their data; returns
        the arrays of `outputs`.  By default the calls become a Program of their own, run
        once; a backend may take a shorter way where nothing can tell the difference."""
        from ..program import Program
        prog = Program(calls=list(calls), outputs=list(outputs),
                       name=calls[0].op if calls else "")
        return self.run(prog, [], 0)

    def straight(self) -> bool:
        """Whether an eager op's one Call may run now without a Program of its own (run_op's
        shorter way, and run_kept), because nothing could tell the difference."""
        return False

    def run_kept(self, call, inputs, outputs, op: str, seed: int) -> list:
        """For a backend whose straight() is true: run a copy of `call` over `inputs` and
        `outputs`, labelled `op` and seeded `seed`, without making the copy (the eager-op
        cache's kept lowering, spinla.ops._core.run_lowered); the outputs' arrays."""
        raise NotImplementedError(f"{self.name}: run_kept")

    def _record(self, t: Transfer):
        if t.direction == "up":
            if t.kind not in self.bytes_up:
                raise ValueError(f"upload: unknown transfer kind {t.kind!r}; use one of "
                                 f"{', '.join(KINDS)}")
            self.bytes_up[t.kind] += t.nbytes
        else:
            self.bytes_down += t.nbytes
        # The run observers of this context (spinla.state: per thread and per fit/profile
        # scope) see transfers too, if they want them.
        for obs in state.observers():
            on_transfer = getattr(obs, "on_transfer", None)
            if on_transfer is not None:
                on_transfer(t)


# The backend of this context (spinla.state's reasoning: a thread starts with an empty
# context, so `use` in one thread never changes what another runs on).  Unset means the
# process's default emulator, made on first use and shared by every context that has not
# chosen another (its caches and transfer counts are process-wide).
_backend: contextvars.ContextVar = contextvars.ContextVar("spinla_backend", default=None)
_default: list = []
_default_lock = threading.Lock()


def current() -> Backend:
    """The backend ops run on in this context (the host emulator unless `use` says
    otherwise)."""
    b = _backend.get()
    if b is not None:
        return b
    if not _default:
        with _default_lock:
            if not _default:
                from .emulator import EmulatorBackend
                _default.append(EmulatorBackend())
    return _default[0]


@contextlib.contextmanager
def use(backend: Backend):
    """Run on `backend` inside the block (this context only: other threads keep theirs)."""
    if not isinstance(backend, Backend):
        raise TypeError(f"spinla.backends.use: expected a Backend, got "
                        f"{type(backend).__name__}")
    tok = _backend.set(backend)
    try:
        yield backend
    finally:
        _backend.reset(tok)


def upload(data, fmt, *, kind: str, name: str | None = None):
    """Host data (int16, in `fmt`) onto the current backend's machine; returns a Buffer."""
    return current().upload(data, fmt, kind=kind, name=name)


__all__ = ["Backend", "Transfer", "KINDS", "current", "use", "upload"]
