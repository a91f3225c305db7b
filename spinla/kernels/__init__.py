"""The Python side of each kernel family in spinla_c/: how an op is tiled into a Call
(lowering), how the emulator runs the Call through the C library, and the cycle formula the
cost model prices it with.  One module per C family; each registers its kernels here."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from .. import abi


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
    cycles(call, machine) -> per-tile ARM968 cycles (NumPy array)."""

    name: str
    run: Callable
    cycles: Callable
    doc: str = ""


KERNELS: dict[str, Kernel] = {}


def register(name: str, cycles: Callable, doc: str = ""):
    def deco(run):
        KERNELS[name] = Kernel(name, run, cycles, doc)
        return run
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
    v = os.environ.get("SPINLA_THREADS")
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


def static_args(call, build):
    """The C-side constant arguments of a Call (int arrays and their pointers), built once by
    `build()` and kept on the Call: a traced Program runs the same Call every step, and
    rebuilding them costs more than many small kernels.  The arrays live as long as the Call,
    so their pointers stay valid."""
    args = call.params.get("_static")
    if args is None:
        args = call.params["_static"] = build()
    return args
