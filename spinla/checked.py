"""The emulator's checked mode: every tile run as the board would run it, on only the bytes its
DMA plan (spinla/kernels/dma.py) brings into DTCM.

The fast emulator hands kernels pointers into whole host arrays, so a wrong DMA plan would
still give right answers on the host.  Checked mode re-runs each Call tile by tile after the
fast run, each tile on its own (a one-tile slice of the Call):

* inputs are shadow copies holding a poison pattern everywhere except the tile's declared
  DMA reads, which hold the real data: a tile that reads bytes its plan does not bring in
  computes from poison, and its result differs from the fast run's;
* outputs start as poison: a tile that writes outside its declared DMA writes is caught, and
  what it writes must be the fast run's bits; over all tiles, every output element must be
  written by some tile (no output comes from nowhere);
* the tile's DTCM (its transfer slots and scratch, TilePlan.dtcm) must fit the machine's
  per-core budget (Machine.tile_budget_bytes);
* the saturation count summed over the tiles must equal the fast run's.

A failure raises CheckError naming the Call (index and op), the tile, its core (chip x, y
and physical core) and the range.  Packets between chips are not replayed: streams record each
one twice (send and recv, tests/test_streams.py checks they match), and on the host every chip
shares one copy of each buffer.

Turn it on with spinla.backends.emulator.EmulatorBackend(checked=True) or SPINLA_CHECKED=1.
It costs a kernel call per tile and a scan of each output per tile: for tests, not training.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from .kernels import KERNELS
from .kernels import dma as kdma

# Poison: a fixed pseudo-random int16 pattern (varied values change any arithmetic that reads
# them, unlike a constant a max or a zero weight could hide).
_POISON_SEED = 0x5EED


class CheckError(RuntimeError):
    """A tile's DMA plan does not describe what its kernel reads or writes, or its DTCM does
    not fit."""


def enabled() -> bool:
    """SPINLA_CHECKED=1 (or true/yes/on) turns checked mode on for every emulator run."""
    return os.environ.get("SPINLA_CHECKED", "").strip().lower() in ("1", "true", "yes", "on")


_PATTERNS: dict = {}


def _poison(n: int) -> np.ndarray:
    p = _PATTERNS.get(n)
    if p is None:
        if len(_PATTERNS) > 64:
            _PATTERNS.clear()
        p = np.random.default_rng(_POISON_SEED + n).integers(-32768, 32768, n, dtype=np.int16)
        p.flags.writeable = False
        _PATTERNS[n] = p
    return p


def _elem_ranges(d):
    """(starts, stops) element ranges of the rows of a transfer (q15 buffers: 2 bytes an
    element; transfers are whole elements)."""
    s, e = d.byte_ranges()
    if d.offset % 2 or d.row_bytes % 2 or d.stride % 2:
        raise CheckError(f"transfer {d} is not whole q15 elements")
    return s // 2, e // 2


def _mask(n, ranges):
    m = np.zeros(n, bool)
    for s, e in ranges:
        for a, z in zip(s.tolist(), e.tolist()):
            m[a:z] = True
    return m


def _where(program, i, call, t, machine):
    from .place import chip_xy
    core = int(call.cores[t])
    chip, pcore = machine.core_location(core)
    x, y = chip_xy(machine, chip)
    name = getattr(program, "name", "program")
    return (f"{name}: call {i} ({call.op}, {call.kernel}) tile {t} {call.tiles[t].tolist()} "
            f"on chip ({x}, {y}) core {pcore}")


def _one_tile(call, t):
    """Call restricted to tile t; params without the cached per-Call C arguments (they point
    at the whole tile array)."""
    params = {k: v for k, v in call.params.items() if not str(k).startswith("_")}
    if call.kernel == "copy_q15":
        params["fill"] = None          # the fill is its own (declared) write, below
    sl = slice(t, t + 1)
    return dataclasses.replace(
        call, params=params, tiles=np.ascontiguousarray(call.tiles[sl]),
        cores=call.cores[sl], macs=call.macs[sl], elems=call.elems[sl],
        dma_in=np.asarray(call.dma_in)[sl], dma_out=np.asarray(call.dma_out)[sl],
        dtcm=np.asarray(call.dtcm)[sl],
        packets=None if call.packets is None else call.packets[sl])


def check_call(program, i: int, call, ins, outs, seed: int, sat: int, machine=None) -> None:
    """Re-run `call` (index i of `program`) tile by tile on poisoned shadows of its operands
    and compare with the fast run's outputs `outs` and saturation count `sat`."""
    if call.kernel == "view":
        return
    from .machine import current, get
    m = get(machine) if machine is not None else (
        get(program.machine) if getattr(program, "machine", None) is not None else current())
    run = KERNELS[call.kernel].run
    flat_in = [np.ascontiguousarray(a).reshape(-1) for a in ins]
    ref = [np.ascontiguousarray(o).reshape(-1) for o in outs]
    shadow_in = [_poison(a.size).copy() for a in flat_in]
    covered = [np.zeros(o.size, bool) for o in ref]
    fill = call.params.get("fill") if call.kernel == "copy_q15" else None
    total_sat = 0
    for t in range(call.ntiles):
        plan = kdma.plan(call, t)
        if plan.dtcm > m.tile_budget_bytes:
            raise CheckError(f"{_where(program, i, call, t, m)}: needs {plan.dtcm} bytes of "
                             f"DTCM (transfer slots and scratch), the budget is "
                             f"{m.tile_budget_bytes}")
        reads = [(d, _elem_ranges(d)) for d in plan.reads() if not isinstance(d.operand, str)]
        writes = [(d, _elem_ranges(d)) for d in plan.writes()]
        for d, (s, e) in reads:
            src, dst = flat_in[d.operand], shadow_in[d.operand]
            # Rows laid out dtcm_stride apart in DTCM have a zero-filled gap; where that is
            # also their SDRAM stride (packed weight rows), the kernel sees zeros there.
            gap = d.dtcm_stride // 2 if d.row_bytes < d.dtcm_stride == d.stride else 0
            for a, z in zip(s.tolist(), e.tolist()):
                dst[a:z] = src[a:z]
                if gap:
                    dst[z:a + gap] = 0
        shadow_out = [_poison(o.size).copy() for o in ref]
        # A copy's share of the padding: declared writes of the fill value (the kernel's own
        # fill is off in the one-tile Call).
        fills = writes[:plan.notes.get("fill", 0)]
        for d, (s, e) in fills:
            for a, z in zip(s.tolist(), e.tolist()):
                shadow_out[0][a:z] = fill
        one = _one_tile(call, t)
        total_sat += int(run(one, [s.reshape(a.shape) for s, a in zip(shadow_in, ins)],
                             [s.reshape(o.shape) for s, o in zip(shadow_out, outs)], seed))
        for j, (got, want) in enumerate(zip(shadow_out, ref)):
            declared = _mask(got.size, [r for d, r in writes if d.operand == j])
            written = got != _poison(got.size)
            if j == 0 and fills:
                written |= _mask(got.size, [r for _, r in fills])
            stray = np.flatnonzero(written & ~declared)
            if len(stray):
                raise CheckError(f"{_where(program, i, call, t, m)}: wrote output {j} "
                                 f"outside its declared DMA writes, at elements "
                                 f"{_spans(stray)}")
            wrong = np.flatnonzero(written & (got != want))
            if len(wrong):
                raise CheckError(f"{_where(program, i, call, t, m)}: output {j} differs from "
                                 f"the fast run at elements {_spans(wrong)} (the tile reads "
                                 f"bytes its DMA plan does not bring in: declared reads "
                                 f"{_describe(reads, call)})")
            covered[j] |= written
        # Back to poison for the next tile (only what this one set).
        for d, (s, e) in reads:
            dst, pat = shadow_in[d.operand], _poison(shadow_in[d.operand].size)
            hi = d.dtcm_stride // 2 if d.dtcm_stride > d.row_bytes else 0
            for a, z in zip(s.tolist(), e.tolist()):
                z = max(z, a + hi)
                dst[a:z] = pat[a:z]
    for j, (cov, want) in enumerate(zip(covered, ref)):
        missing = np.flatnonzero(~cov & (want != _poison(want.size)))
        if len(missing):
            raise CheckError(f"{getattr(program, 'name', 'program')}: call {i} ({call.op}, "
                             f"{call.kernel}): no tile writes output {j} at elements "
                             f"{_spans(missing)}, which the fast run produced")
    if total_sat != int(sat):
        raise CheckError(f"{getattr(program, 'name', 'program')}: call {i} ({call.op}, "
                         f"{call.kernel}): the tiles count {total_sat} saturations, the fast "
                         f"run {sat}")


def _spans(idx, most=3) -> str:
    """The first few runs of consecutive indices, as [a, b) ranges."""
    brk = np.flatnonzero(np.diff(idx) != 1) + 1
    runs = [(int(idx[a]), int(idx[z - 1]) + 1) for a, z in zip(np.r_[0, brk], np.r_[brk, len(idx)])]
    more = f" and {len(runs) - most} more" if len(runs) > most else ""
    return ", ".join(f"[{a}, {b})" for a, b in runs[:most]) + more


def _describe(reads, call) -> str:
    parts = [f"input {d.operand} {call.inputs[d.operand].shape}: {d.rows} row(s) of "
             f"{d.row_bytes // 2} from element {d.offset // 2}, {d.stride // 2} apart"
             for d, _ in reads[:4]]
    return "; ".join(parts) + (" ..." if len(reads) > 4 else "")
