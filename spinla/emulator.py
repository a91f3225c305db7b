"""The host emulator: runs a Program through the compiled kernels.

Every Call's tile loop runs in C (spinla_c/host/), spread over host threads.  Each kernel
module's bind(call) says which C runner a Call invokes with which arguments (spinla/kernels),
and two walkers use that one description:

* The whole-Program runner, for traced Programs (spinla.jit): the Program is planned once -
  every binding encoded into records for spl_run_program (spinla_c/host/program.h), every
  temporary given an offset in one int16 arena and its space reused after its last reader, as
  SDRAM would be; inputs and constant buffers are bound by pointer, outputs get arrays of
  their own each run - and a run is one C call.  Then the saturation count of each Call is
  recorded in call order, so spinla.stats(), warnings and errstate(saturate='raise') see
  exactly what the per-call walker gives: on a raise, the Calls after the first saturating
  one have run (their results are discarded) but are not counted, as if they had not.
* The per-call walker, for eager one-call Programs (planning would cost more than it saves),
  for checked mode (spinla/checked.py re-runs each Call's tiles after it), for any Program
  with SPINLA_PROGRAM_C=0 or run_program(..., c=False) (for comparison), and
  for what the planner leaves to it (a kernel without a binding, a buffer nothing binds, an
  input that is not a C-contiguous int16 array): Python walks the Calls, allocating outputs
  and freeing temporaries after their last reader.

The plan is a backend cache kept beside the Program (a SideCache), not on it.
"""
from __future__ import annotations

import sys

import numpy as np

from . import checked as _checked
from . import _env, runtime, state
from .kernels import (ITEMSIZE, KERNELS, NULL, SEED, In, Out, Scratch, SideCache, Static, View,
                      ffi, lib, threads_key)
from .program import Program, count_run

ALIGN = 64            # bytes: arena blocks start on cache lines (int64 partials need 8)
_INT16 = np.dtype(np.int16)


def run_program(program: Program, args, run_index: int | None = None,
                checked: bool | None = None, *, c: bool | None = None) -> list:
    """Run `program` once; run_index (default: the runs so far) picks the stochastic-rounding
    stream, mixed with each call's seed.  checked (default: SPINLA_CHECKED) re-runs every
    tile on only its declared DMA bytes from its chip's SDRAM (spinla/checked.py; a strategy
    name places the Program so), which the per-call walker does.
    c: True or False forces the whole-Program runner or the per-call walker; None (default)
    takes the runner for traced Programs (and any Program run before), unless
    SPINLA_PROGRAM_C=0 or checked mode."""
    if checked is None:
        checked = _checked.enabled()
    if len(args) != len(program.inputs):
        raise TypeError(f"{program.name}: expected {len(program.inputs)} inputs, "
                        f"got {len(args)}")
    for ph, a in zip(program.inputs, args):
        if a is None or a.shape != ph.shape:
            raise ValueError(f"{program.name}: input {ph.name} must have shape {ph.shape}, "
                             f"got {None if a is None else a.shape}")
    run = program.runs if run_index is None else int(run_index)
    if not checked and not program.inputs and len(program.calls) == 1 and not c:
        # An eager op: one Call over buffers that hold their data (the walker's work without
        # its bookkeeping; a dozen microseconds is most of what a small eager op costs).
        results = _run_one(program.name, program.calls[0], program.outputs, run)
        count_run(program)
        runtime.notify(program)
        return results
    if c is None:
        c = ((bool(program.inputs) or program.runs > 0)
             and _env.get("SPINLA_PROGRAM_C", "1") != "0")
    results = None
    if c and not checked and 0 <= run < 1 << 32:
        plan = _PLANS.get(program, lambda: _Plan.build(program),
                          (threads_key(), len(program.calls)))
        if plan is not None:
            results = plan.run(program, args, run)
    if results is None:
        results = _walk(program, args, run, checked)
    count_run(program)
    runtime.notify(program)
    return results


# --- the per-call walker ------------------------------------------------------------------------

def run_call(call, outputs) -> list:
    """An eager op's one Call, over buffers that hold their data, run now as the first run of
    a Program of its own would be (EmulatorBackend.run_op, when nothing observes runs)."""
    return _run_one(call.op, call, outputs, 0)


def run_kept(call, inputs, outputs, op: str, seed: int) -> list:
    """What run_call does for a copy of `call` over `inputs` and `outputs` (buffers that hold
    their data) seeded with `seed` and labelled `op`, without making the copy: `call` is a
    lowering kept by the eager-op cache (spinla.ops._core.run_lowered); its binding is built
    over its shapes and formats, which the buffers share.  Returns the outputs' arrays."""
    return _run_kernel(op, op, call, inputs, outputs, seed, 0)


def _run_kernel(name: str, op: str, call, inputs, outputs, seed: int, run: int) -> list:
    """call's kernel over the data of `inputs` into new arrays for `outputs` (its own buffers
    or ones shaped as they are), its losses recorded under `op`."""
    ins = []
    for b in inputs:
        if b.data is None:
            raise RuntimeError(f"{name}: {op} reads {b!r}, which holds no data")
        ins.append(b.data)
    outs = [np.empty(b.shape, np.int16) for b in outputs]
    s = int(lib.spl_seed_mix(seed, run)) if call.stochastic else 0
    runtime.record(op, KERNELS[call.kernel].run(call, ins, outs, s))
    return outs


def _run_one(name: str, call, outputs, run: int) -> list:
    outs = _run_kernel(name, call.op, call, call.inputs, call.outputs, call.seed, run)
    if len(outputs) == 1 and len(outs) == 1 and outputs[0] is call.outputs[0]:
        return outs                      # (every eager op so far)
    by_id = {b.id: o for b, o in zip(call.outputs, outs)}
    return [by_id[b.id] if b.id in by_id else b.data for b in outputs]


_LAST_USE = SideCache()


def _walk(program: Program, args, run: int, checked: bool = False) -> list:
    env = {ph.id: a for ph, a in zip(program.inputs, args)}
    # (a one-call Program, every eager op, frees nothing: its results are all it holds)
    last = (_LAST_USE.get(program, program.last_use, len(program.calls))
            if len(program.calls) > 1 else {})
    keep = {b.id for b in program.outputs} | {b.id for b in program.inputs}
    chk = _checked.Checker(program, args, checked) if checked else None
    for i, call in enumerate(program.calls):
        ins = []
        for b in call.inputs:
            d = env.get(b.id)
            if d is None:
                d = b.data
                if d is None:
                    raise RuntimeError(f"{program.name}: {call.op} reads {b!r}, which no "
                                       f"earlier call wrote and no input binds")
            ins.append(d)
        outs = [np.empty(b.shape, np.int16) for b in call.outputs]
        seed = int(lib.spl_seed_mix(call.seed, run)) if call.stochastic else 0
        sat = KERNELS[call.kernel].run(call, ins, outs, seed)
        if chk is not None:
            chk.check_call(i, call, ins, outs, seed, sat)
        runtime.record(call.op, sat)
        for b, o in zip(call.outputs, outs):
            env[b.id] = o
        for b in call.inputs:
            if last.get(b.id) == i and b.id not in keep and b.id in env:
                del env[b.id]
    return [env[b.id] if b.id in env else b.data for b in program.outputs]


# --- the whole-Program runner -------------------------------------------------------------------

_PLANS = SideCache()
_ENTRIES: dict[str, int] = {}


def _entry(fn: str) -> int | None:
    """spl_run_program's number for the runner `fn` (None: it has no thunk there)."""
    if not _ENTRIES:
        i = 0
        while (name := lib.spl_program_entry(i)) != ffi.NULL:
            _ENTRIES[ffi.string(name).decode()] = i
            i += 1
    return _ENTRIES.get(fn)


class _Root:
    """Storage of one or more buffers (a view shares its source's): a Program input (slot), a
    constant buffer (its data, bound each run), a temporary in the arena, or an output."""

    __slots__ = ("kind", "ref", "nbytes", "shape", "first", "last", "slot", "offset")

    def __init__(self, kind, ref, nbytes, shape, first):
        self.kind, self.ref, self.nbytes, self.shape = kind, ref, nbytes, shape
        self.first = self.last = first
        self.slot, self.offset = 0, 0


def _arena_layout(roots, ncalls) -> int:
    """Offsets of the temporaries in one arena: first fit in call order, a block freed once
    the call after its last reader starts (never under that call's own outputs).  Returns
    the arena's size in bytes."""
    temps = sorted((r for r in roots if r.kind == "temp"), key=lambda r: r.first)
    live, size, t = [], 0, 0
    for i in range(ncalls):
        live = [r for r in live if r.last >= i]
        while t < len(temps) and temps[t].first == i:
            r, t = temps[t], t + 1
            need = -(-max(r.nbytes, 1) // ALIGN) * ALIGN
            off = 0
            for o in sorted(live, key=lambda x: x.offset):
                if o.offset - off >= need:
                    break
                off = max(off, o.offset + -(-max(o.nbytes, 1) // ALIGN) * ALIGN)
            r.offset = off
            live.append(r)
            size = max(size, off + need)
    return size


# Earlier runs' output arrays kept per output for reuse (_Plan._out_array): a training step's
# outputs are its next step's inputs, so an array becomes free two runs after it was made.
SPENT_KEPT = 3


class _Plan:
    """A Program's records for spl_run_program and its buffer plan, built once."""

    def __init__(self):
        self.arenas = []
        self.spent = []          # output arrays of earlier runs, per output (see _out_array)

    @classmethod
    def build(cls, program: Program):
        """The plan, or None when the per-call walker must run the Program: a kernel without
        a binding, or a buffer that no call writes and nothing binds (the walker raises)."""
        roots, env, consts, calls = [], {}, {}, []
        for k, ph in enumerate(program.inputs):
            roots.append(_Root("in", k, ph.nbytes, ph.shape, -1))
            env[ph.id] = (roots[-1], 0, False)
        for i, call in enumerate(program.calls):
            kernel = KERNELS.get(call.kernel)
            if kernel is None or kernel.bind is None:
                return None
            refs = []
            for b in call.inputs:
                ref = env.get(b.id)
                if ref is None:
                    if b.data is None:
                        return None
                    if b.id not in consts:
                        consts[b.id] = _Root("const", b, b.nbytes, b.shape, -1)
                        roots.append(consts[b.id])
                    ref = (consts[b.id], 0, False)
                refs.append(ref)
                ref[0].last = max(ref[0].last, i)
            binding = kernel.bind(call)
            if isinstance(binding, View):
                root, off, _ = refs[0]
                env[call.outputs[0].id] = (root, off + 2 * binding.offset, True)
                calls.append((call, (), refs, [], []))
                continue
            outs = []
            for b in call.outputs:
                roots.append(_Root("temp", None, b.nbytes, b.shape, i))
                outs.append((roots[-1], 0, False))
                env[b.id] = outs[-1]
            scratch = []
            for step in binding:
                for a in step.args:
                    if type(a) is Scratch:
                        roots.append(_Root("temp", None, a.count * ITEMSIZE[a.ctype], None, i))
                        scratch.append(roots[-1])
            calls.append((call, binding, refs, outs, scratch))

        plan = cls()
        # Calls per op, added to the counters at once by a run that lost nothing (a
        # runtime.record per call was a visible share of a small network's step).
        ops = {}
        for call in program.calls:
            ops[call.op] = ops.get(call.op, 0) + 1
        plan.op_calls = list(ops.items())
        for b in program.outputs:        # outputs get arrays of their own, not arena space
            if b.id in env and env[b.id][0].kind == "temp":
                env[b.id][0].kind = "out"
        plan.arena_bytes = _arena_layout(roots, len(program.calls))
        # Slots of the base-pointer table: the arena, then inputs, constants and outputs (the
        # order run() binds them in).
        ins = [r for r in roots if r.kind == "in"]
        plan.consts = [r for r in roots if r.kind == "const"]
        outs = [r for r in roots if r.kind == "out"]
        for slot, r in enumerate(ins + plan.consts + outs, start=1):
            r.slot = slot
        plan.nslots = 1 + len(ins) + len(plan.consts) + len(outs)
        plan.out_shapes = [r.shape for r in outs]
        # Each result: (slot - 1, None) for a whole buffer, (slot - 1, (offset, size, shape))
        # for a view into one, (-1, buffer) for a buffer no call writes.
        plan.results = []
        for b in program.outputs:
            if b.id not in env:
                plan.results.append((-1, b))
                continue
            root, off, viewed = env[b.id]
            plan.results.append((root.slot - 1, (off // 2, b.size, b.shape) if viewed else None))
        plan.code = np.asarray(plan._encode(calls), dtype=np.int64)
        plan.code_p = ffi.from_buffer("int64_t[]", plan.code)
        plan.keep = calls                # the bindings' Static arrays, whose addresses we use
        plan.ncalls = len(program.calls)
        return plan

    @staticmethod
    def _encode(calls):
        code = []
        for call, binding, refs, outs, scratch in calls:
            code += [len(binding), int(bool(call.stochastic)), int(call.seed)]
            scratch = iter(scratch)
            for fn, args in binding:
                entry = _entry(fn)
                params = ffi.typeof(getattr(lib, fn)).args
                if entry is None or len(params) != len(args):
                    raise RuntimeError(f"{call.op} ({call.kernel}): its binding calls {fn} "
                                       f"with {len(args)} arguments, which the Program runner "
                                       f"cannot run (spinla_c/host/run_program.c)")
                code += [entry, len(args)]
                for j, (a, param) in enumerate(zip(args, params)):
                    t = type(a)
                    if t is In or t is Out:
                        root, off, _ = (refs if t is In else outs)[a.index]
                        word = [lib.SPL_ARG_BUF, root.slot,
                                root.offset + off + a.offset * ITEMSIZE[a.ctype]]
                    elif t is Scratch:
                        root = next(scratch)
                        word = [lib.SPL_ARG_BUF, root.slot, root.offset]
                    elif t is Static:
                        word = [lib.SPL_ARG_ADDR, int(ffi.cast("intptr_t", a.p)), 0]
                    elif a is NULL:
                        word = [lib.SPL_ARG_ADDR, 0, 0]
                    elif a is SEED:
                        word = [lib.SPL_ARG_SEED, 0, 0]
                    else:
                        word = [lib.SPL_ARG_INT, int(a), 0]
                    is_ptr = word[0] in (lib.SPL_ARG_BUF, lib.SPL_ARG_ADDR)
                    if is_ptr != (param.kind == "pointer"):
                        raise TypeError(f"{call.op} ({call.kernel}): argument {j} of {fn} is "
                                        f"a {param.cname}, its binding gives {a!r}")
                    code += word
        return code

    def _out_array(self, j: int, shape):
        """An array for output j: an earlier run's, when nobody holds it any more, else a new one.
        Why: a training step's outputs (new weights, optimiser state) are dropped by the
        caller one step later, and a fresh np.empty of a few hundred KB is a new mmap whose
        pages the kernel zeroes on first touch - measured at 12-16 % of an MLP-1 epoch.  The
        run writes every element of an output, as it would of np.empty's memory."""
        if len(self.spent) <= j:
            self.spent += [[] for _ in range(j + 1 - len(self.spent))]
        spent = self.spent[j]
        for i in range(len(spent) - 1, -1, -1):
            try:
                a = spent.pop(i)     # pop first: two threads never take the same array
            except IndexError:       # (another thread took it meanwhile)
                continue
            # References: `a` and getrefcount's argument.  Any other (the caller's Array, a
            # view's base, an exported buffer) means the array is still in use.
            if sys.getrefcount(a) == 2 and a.shape == shape:
                return a
            spent.insert(i, a)       # still in use (a step's outputs are its next inputs)
        return np.empty(shape, np.int16)

    def run(self, program: Program, args, run: int):
        """Run once; the results, or None to leave this run to the per-call walker (an input
        or constant that is not a C-contiguous int16 array)."""
        pool = list(args)
        for r in self.consts:
            d = r.ref.data
            if d is None or d.shape != r.shape:
                return None
            pool.append(d)
        for a in pool:
            if a.dtype is not _INT16 and a.dtype != _INT16:
                return None
        outs = [self._out_array(j, shape) for j, shape in enumerate(self.out_shapes)]
        pool += outs
        try:
            arena = self.arenas.pop()
        except IndexError:
            arena = np.empty(max(1, self.arena_bytes // 2), np.int16)
        try:           # from_buffer refuses an array that is not C-contiguous
            hold = [ffi.from_buffer(a) for a in (arena, *pool)]
        except (BufferError, ValueError):
            self.arenas.append(arena)
            return None
        sat = ffi.new("uint64_t[]", max(1, self.ncalls))
        bad = lib.spl_run_program(self.code_p, self.ncalls, ffi.new("void *[]", hold), run, sat)
        del hold                         # (release the buffers before the arena is reused)
        self.arenas.append(arena)
        for j, a in enumerate(outs):
            spent = self.spent[j]
            spent.append(a)
            if len(spent) > SPENT_KEPT:  # the oldest, perhaps held for good, makes room
                del spent[0]
        if bad:
            call = program.calls[bad - 1]
            raise RuntimeError(f"{program.name}: call {bad - 1} ({call.op}, {call.kernel}): "
                               f"spl_run_program rejected its record")
        lost = ffi.unpack(sat, self.ncalls)
        if any(lost):           # each call in turn, as the walker (errstate may raise)
            for call, s in zip(program.calls, lost):
                runtime.record(call.op, s)
        else:
            counts = state.stats_obj().calls
            for op, k in self.op_calls:
                counts[op] += k
        out = []
        for j, view in self.results:
            if j < 0:
                out.append(view.data)          # a buffer no call writes: its own data
            elif view is None:
                out.append(pool[j])
            else:
                off, n, shape = view
                out.append(pool[j].reshape(-1)[off:off + n].reshape(shape))
        return out
