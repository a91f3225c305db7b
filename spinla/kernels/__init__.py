"""The Python side of each kernel family in spinla_c/: how an op is tiled into a Call
(lowering), how the emulator runs the Call through the C library, and the cycle formula the
cost model prices it with.  One module per C family; each registers its kernels here."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from .. import _env, abi
from ..beside import Beside


class _Lazy:
    """The compiled extension's `ffi` or `lib`, imported on first use: lowering, placement and
    the cost model import this package for the tiling code and cycle formulas, and must not
    need the C build (only running a kernel does)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        # The emulator's OpenMP threads spin-wait between parallel regions by default; on a
        # host whose other cores are busy they then wait for descheduled partners, which made
        # a training epoch 6-23x slower under load (README, "Host noise"), while sleeping
        # threads cost nothing measurable on an idle 2-core host.  libgomp reads this when the
        # extension loads; a user's own setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from .. import _kernels
        except ImportError as e:  # pragma: no cover - a build problem, reported clearly
            raise ImportError(
                "spinla's C kernels are not built. Install the package (`pip install .` or "
                "`make install`), which compiles spinla_c/ with cffi.") from e
        value = getattr(getattr(_kernels, self._name), attr)
        setattr(self, attr, value)          # later look-ups skip __getattr__
        return value


ffi, lib = _Lazy("ffi"), _Lazy("lib")


@dataclass(frozen=True)
class Kernel:
    """run(call, inputs, outputs, seed) -> saturation count, on NumPy int16 buffers;
    cycles(call, machine) -> per-tile ARM968 cycles (NumPy array);
    bind(call) -> the C calls that run it (a tuple of Steps) or a View, for the whole-Program
    runner (spinla/emulator.py); None for a kernel only the per-call walker can run."""

    name: str
    run: Callable
    cycles: Callable
    doc: str = ""
    bind: Callable | None = None


KERNELS: dict[str, Kernel] = {}


def register(name: str, cycles: Callable, doc: str = "", bind: Callable | None = None):
    def deco(run):
        KERNELS[name] = Kernel(name, run, cycles, doc, bind)
        return run
    return deco


def register_bound(name: str, cycles: Callable, doc: str = ""):
    """Register a kernel by its bind(call) function alone: the per-call walker marshals the
    binding into the C runner's arguments (run_bound), and the whole-Program runner encodes the
    same binding into its records, so the argument list has one definition."""
    def deco(bind):
        def run(call, ins, outs, seed):
            return run_bound(call, bind, ins, outs, seed)
        KERNELS[name] = Kernel(name, run, cycles, doc, bind)
        return bind
    return deco


# Below this much work (elements or MACs) a call runs on one host thread: waking an OpenMP
# team costs more than it saves, and far more when another process holds the other cores.
# The C runners use the same threshold (spinla.h).
PARALLEL_MIN_WORK = abi.const("SPL_HOST_PARALLEL_MIN_WORK")


def threads(work: int | None = None) -> int:
    """Host threads the emulator's tile loops use (SPINLA_THREADS, default all CPUs); one for
    calls with less than PARALLEL_MIN_WORK units of work."""
    if work is not None and work < PARALLEL_MIN_WORK:
        return 1
    v = _env.get("SPINLA_THREADS")
    return max(1, int(v)) if v else _CPUS


_CPUS = os.cpu_count() or 1


def simd_path() -> str:
    """The host SIMD path the C kernels were built with: 'avx512-vnni', 'avx2', 'neon' or
    'portable' (spinla_c/spl_simd.h decides from the compiler's target, SPINLA_MARCH)."""
    return ffi.string(lib.spl_simd_path()).decode()


def ptr(a, ctype="int16_t *"):
    """C pointer to a C-contiguous NumPy array, without a copy.  ffi.from_buffer keeps the
    array alive for as long as the pointer object lives, and is the cheapest way to get it
    (it runs a hundred times a training step); a non-contiguous array raises."""
    return ffi.from_buffer(_ARRAY_TYPE.get(ctype) or ctype.replace("*", "[]").strip(), a)


_ARRAY_TYPE = {"int16_t *": "int16_t[]", "int32_t *": "int32_t[]", "int64_t *": "int64_t[]"}


# Host state kept beside Calls and Programs, not on them (spinla/beside.py).
SideCache = Beside


_STATIC = SideCache()

# Calls copied from one lowering onto other buffers (spinla.ops._core.lowered, the eager-op
# cache) have the template's kernel arguments: bindings depend on a Call's params, tiles and
# buffer shapes, never on the buffers themselves (In/Out are operand indices).  Their
# bindings are built once, for the template, and looked up under it.
_TEMPLATE = SideCache()


def same_arguments(call, template):
    """Record that `call` binds as `template` does (a copy of its lowering)."""
    _TEMPLATE.get(call, lambda: template)


def binding_owner(call):
    """The Call whose binding `call` uses: its template, else itself."""
    t = _TEMPLATE.peek(call)
    return call if t is None else t


def static_args(call, build):
    """The C-side constant arguments of a Call (int arrays and their pointers), built once by
    `build()` and kept beside the Call (SideCache): a traced Program runs the same Call every
    step, and rebuilding them costs more than many small kernels.  The arrays live as long as
    the Call, so their pointers stay valid."""
    return _STATIC.get(call, build)


# --- bindings: one description of a Call's C runner calls -------------------------------------
#
# A kernel module's bind(call) says which spinla_c/host runner(s) a Call invokes and with what
# arguments, in the runner's parameter order: plain ints, SEED (the call's stochastic-rounding
# seed for this run), NULL, Static arrays (constant per Call: tiles, geometry, strides), In/Out
# (the Call's i-th input or output buffer, `offset` elements of `ctype` in), and Scratch (per-
# thread work space the runner indexes by thread).  run_bound marshals it for one call from
# Python; spinla/emulator.py encodes it into records for spl_run_program (host/program.h).

class Step(NamedTuple):
    fn: str          # the C runner's name, e.g. "spl_run_gemm"
    args: tuple


class In(NamedTuple):
    index: int
    offset: int = 0
    ctype: str = "int16_t *"


class Out(NamedTuple):
    index: int
    offset: int = 0
    ctype: str = "int16_t *"


class Scratch(NamedTuple):
    count: int       # elements of ctype
    ctype: str = "int16_t *"


class View(NamedTuple):
    """The Call runs no code: its output is its input's bytes from `offset` elements on."""
    offset: int


SEED = "seed"        # marker: the call's seed (0 unless stochastic)
NULL = None          # marker: a null pointer

ITEMSIZE = {"int16_t *": 2, "int32_t *": 4, "int64_t *": 8}
_DTYPE = {"int16_t *": np.int16, "int32_t *": np.int32, "int64_t *": np.int64}


class Static:
    """A constant int array argument; its C pointer is made once and lives with the array."""

    __slots__ = ("array", "ctype", "_p")

    def __init__(self, values, ctype="int32_t *"):
        self.array = np.ascontiguousarray(values, dtype=_DTYPE[ctype])
        self.ctype = ctype
        self._p = None

    @property
    def p(self):
        if self._p is None:
            self._p = ptr(self.array, self.ctype)
        return self._p


def i32(values) -> Static:
    return Static(values, "int32_t *")


def threads_key():
    """The setting bindings depend on beyond the Call (thread counts, scratch sizes)."""
    return _env.get("SPINLA_THREADS")


_BOUND = SideCache()


def _marshal(steps) -> tuple:
    """A binding made ready for run_bound: per Step, the C function, its argument list with
    every per-Call constant already converted (Static pointers, NULL, ints), and the positions
    of the per-run arguments (In, Out, Scratch, SEED) with what goes there.  Converting once
    per Call instead of every run is most of what a small eager op's marshalling costs."""
    plan = []
    for fn, args in steps:
        fixed, per_run = [], []
        for i, a in enumerate(args):
            t = type(a)
            if t is In or t is Out or t is Scratch or (t is str and a == SEED):
                fixed.append(None)
                per_run.append((i, a))
            elif t is Static:
                fixed.append(a.p)
            elif a is NULL:
                fixed.append(ffi.NULL)
            else:
                fixed.append(a)
        plan.append((getattr(lib, fn), fixed, tuple(per_run)))
    return tuple(plan)


def run_bound(call, bind, ins, outs, seed) -> int:
    """Run a Call from Python through its binding (built once per Call, kept beside it):
    the per-call walker's path, and the reference the whole-Program runner is tested
    against."""
    owner = binding_owner(call)
    plan = _BOUND.get(owner, lambda: _marshal(bind(owner)), threads_key())
    sat = 0
    for cfn, fixed, per_run in plan:
        cargs = fixed.copy()
        for i, a in per_run:
            t = type(a)
            if t is In or t is Out:
                arr = (ins if t is In else outs)[a.index]
                if t is In and not arr.flags.c_contiguous:     # (outputs are fresh arrays)
                    arr = np.ascontiguousarray(arr)
                p = ptr(arr, a.ctype)
                cargs[i] = p + a.offset if a.offset else p
            elif t is Scratch:
                cargs[i] = ptr(np.empty(max(1, a.count), _DTYPE[a.ctype]), a.ctype)
            else:
                cargs[i] = seed
        r = cfn(*cargs)
        if r is not None:
            sat += int(r)
    return sat
