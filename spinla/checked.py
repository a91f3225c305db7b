"""The emulator's checked mode: every tile run as the board would run it, on only the bytes its
DMA plan (spinla/kernels/dma.py) brings into DTCM from its own chip's SDRAM.

The fast emulator hands kernels pointers into whole host arrays, and every chip shares one copy
of each buffer, so a wrong DMA plan or a placement whose streams forget a packet would still
give right answers on the host.  Checked mode places the Program (spinla.place; the strategy
given, else place()'s default, which `spinla map` shows), builds its per-core streams
(spinla.streams) and re-runs each Call after the fast run from what the streams say, with each
chip's own image of every buffer (spinla/sdram.py):

* the Call's packets that serve SDRAM (sent by a chip's monitor) are copied from the sending
  chip's image to each receiving chip's at the start of the Call, by the streams' own
  send/recv records, each byte marked with the receiving chip's arrival count of its recv
  (spinla.h); a tile that reads such a byte must wait for that count (its phase's
  wait_arrivals), whichever core of the chip it runs on, else the read races the arrival on
  a board and fails here, although the replay has the bytes;
* each tile runs on its own (a one-tile slice of the Call), on the core its stream names:
  its inputs are shadow copies holding poison everywhere except the rows its DMA records
  bring in from its chip's image.  A declared read of bytes the chip does not hold (no Home
  put them there, no packet brought them) fails naming the buffer's byte range; a kernel that
  reads bytes its plan does not bring in computes from poison and differs from the fast run;
* outputs start as poison: a tile that writes outside its declared DMA writes is caught, and
  what it writes must be the fast run's bits; over all tiles, every output element must be
  written by some tile (no output comes from nowhere).  Its DMA writes land in its chip's
  image, and the packets its phase sends carry them on;
* after the Call, every byte of an output must be in the image of the chip its Home names
  (bytes written on another chip must arrive by a packet record);
* the tile's DTCM (its transfer slots and scratch, TilePlan.dtcm) must fit the machine's
  per-core budget (Machine.tile_budget_bytes);
* the saturation count summed over the tiles must equal the fast run's.

A failure raises CheckError naming the Call (index and op), the tile, its chip (x, y) and
physical core, and the elements or buffer bytes.

Turn it on with spinla.backends.emulator.EmulatorBackend(checked=True) or SPINLA_CHECKED=1;
checked='model' / 'data' / 'best' (or SPINLA_CHECKED=model, ...) picks the placement strategy.
The machine is the Program's (else the current one).  It costs a placement and the streams per
Program, a kernel call per tile and a scan of each output per tile: for tests, not training.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import _env, abi, sdram, streams
from .beside import Beside
from .kernels import KERNELS
from .kernels import dma as kdma

_poison = sdram.poison
_DIR = {kdma.READ: abi.const("SPL_DMA_READ"), kdma.WRITE: abi.const("SPL_DMA_WRITE")}
_ON = ("1", "true", "yes", "on")


class CheckError(RuntimeError):
    """A tile's DMA plan does not describe what its kernel reads or writes, its DTCM does not
    fit, or the streams do not bring a chip the bytes its tiles read."""


def enabled():
    """SPINLA_CHECKED: 1 (or true/yes/on) turns checked mode on for every emulator run under
    place()'s default strategy; model, data or best under that strategy.  Returns False, True
    or the strategy."""
    v = _env.get("SPINLA_CHECKED")
    if not v:                   # every eager op asks: the usual answer stays cheap
        return False
    v = v.strip().lower()
    if v in _ON:
        return True
    from .place import STRATEGIES
    return v if v in STRATEGIES else False


def _whole(d):
    """Transfers of q15 buffers are whole elements (2 bytes)."""
    if d.offset % 2 or d.row_bytes % 2 or d.stride % 2:
        raise CheckError(f"transfer {d} is not whole q15 elements")


def _mask(n, transfers):
    """Elements of an n-element operand that the transfers cover."""
    m = np.zeros(2 * n, np.uint8)
    for d in transfers:
        v = sdram.rows(m, d.offset, d.rows, d.row_bytes, d.stride)
        if v is not None:
            v[...] = 1
    return m[::2].astype(bool)


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


_REPLAYS = Beside()


class Checker:
    """Checked mode over one run of a Program: its placement and streams (kept beside the
    Program per machine and strategy), and each chip's images of the buffers (this run's)."""

    def __init__(self, program, args, strategy=None, machine=None):
        from .machine import current, get
        m = get(machine) if machine is not None else (
            get(program.machine) if getattr(program, "machine", None) is not None
            else current())
        strategy = strategy if isinstance(strategy, str) else None
        self.program, self.machine = program, m
        self.name = getattr(program, "name", "program")
        self.replay = _REPLAYS.get(program, lambda: sdram.build(program, m, strategy),
                                   (m, strategy, len(program.calls)))
        env = {ph.id: a for ph, a in zip(program.inputs, args)}
        truth = {}
        for bi, buf in self.replay.base.items():
            if bi in self.replay.initial:
                a = env.get(buf.id)
                a = buf.data if a is None else a
                if a is not None:
                    truth[bi] = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
        self.images = sdram.Images(self.replay, truth)

    def _call(self, i, call) -> str:
        return f"{self.name}: call {i} ({call.op}, {call.kernel})"

    def check_call(self, i: int, call, ins, outs, seed: int, sat: int) -> None:
        """Replay `call` (index i) from the streams, tile by tile on poisoned shadows of its
        operands filled from the tiles' chips' images, and compare with the fast run's
        outputs `outs` and saturation count `sat`."""
        if call.kernel == "view":
            return
        cr = self.replay.calls[i]
        if cr.error:
            raise CheckError(f"{self._call(i, call)}: {cr.error}")
        tiles = sorted(cr.tiles, key=lambda e: e[0])
        runs = np.bincount([e[0] for e in tiles], minlength=call.ntiles)
        # Each tile once, or (a call placed 'local') once on each chip of its copies.
        if len(runs) != call.ntiles or runs.min(initial=1) < 1 or len(set(runs.tolist())) > 1:
            raise CheckError(f"{self._call(i, call)}: the streams run tiles "
                             f"{[e[0] for e in tiles]}, the Call has {call.ntiles}")
        counted = set()
        self.images.begin_call(cr.pre)
        budget = self.machine.tile_budget_bytes
        run = KERNELS[call.kernel].run
        flat_in = [np.ascontiguousarray(a).reshape(-1) for a in ins]
        in_u8 = [a.view(np.uint8) for a in flat_in]
        ref = [np.ascontiguousarray(o).reshape(-1) for o in outs]
        shadow_in = [_poison(a.size).copy() for a in flat_in]
        shadow_u8 = [s.view(np.uint8) for s in shadow_in]
        covered = [np.zeros(o.size, bool) for o in ref]
        fill = call.params.get("fill") if call.kernel == "copy_q15" else None
        total_sat = 0
        for t, chip, (x, y, core), ph in tiles:
            where = (f"{self._call(i, call)} tile {t} {call.tiles[t].tolist()} on chip "
                     f"({x}, {y}) core {core}")
            plan = kdma.plan(call, t)
            if plan.dtcm > budget:
                raise CheckError(f"{where}: needs {plan.dtcm} bytes of DTCM (transfer slots "
                                 f"and scratch), the budget is {budget}")
            pairs = self._pairs(where, call, plan, ph)
            slot_of = dict(zip(map(id, plan.dmas),
                               np.cumsum([0] + [d.dtcm_bytes for d in plan.dmas]).tolist()))
            writes = [(d, r) for d, r in pairs if d.dir == kdma.WRITE]
            reads = []
            for d, r in pairs:
                if d.dir != kdma.READ or isinstance(d.operand, str):
                    continue
                for dd, rr in (self._indexed_rows(where, call, plan, slot_of, d, r, shadow_u8)
                               if d.indexed else ((d, r),)):
                    self._load(where, (chip, x, y), dd, rr, shadow_u8[dd.operand],
                               in_u8[dd.operand], ph.wait)
                    reads.append((dd, rr))
            shadow_out = [_poison(o.size).copy() for o in ref]
            # A copy's share of the padding: declared writes of the fill value (the kernel's
            # own fill is off in the one-tile Call).
            fills = writes[:plan.notes.get("fill", 0)]
            for d, _ in fills:
                v = sdram.rows(shadow_out[0].view(np.uint8), d.offset, d.rows, d.row_bytes,
                               d.stride)
                v.view(np.int16)[...] = fill
            one = _one_tile(call, t)
            tile_sat = int(run(one, [s.reshape(a.shape) for s, a in zip(shadow_in, ins)],
                               [s.reshape(o.shape) for s, o in zip(shadow_out, outs)], seed))
            if t not in counted:            # a 'local' call's copies count once
                counted.add(t)
                total_sat += tile_sat
            for j, (got, want) in enumerate(zip(shadow_out, ref)):
                mine = [d for d, _ in writes if d.operand == j]
                declared = _mask(got.size, mine)
                written = got != _poison(got.size)
                if j == 0 and fills:
                    written |= _mask(got.size, [d for d, _ in fills])
                stray = np.flatnonzero(written & ~declared)
                if len(stray):
                    raise CheckError(f"{where}: wrote output {j} outside its declared DMA "
                                     f"writes, at elements {_spans(stray)}")
                wrong = np.flatnonzero(written & (got != want))
                if len(wrong):
                    raise CheckError(f"{where}: output {j} differs from the fast run at "
                                     f"elements {_spans(wrong)} (the tile reads bytes its DMA "
                                     f"plan does not bring in: declared reads "
                                     f"{_describe(reads, call)})")
                covered[j] |= written
            # The tile's DMA writes land in its chip's image (what its DTCM slots hold).
            for d, r in writes:
                img = self.images.get(r["buffer"], chip)
                dst = sdram.rows(img, r["offset"], r["rows"], r["row_bytes"], r["stride"])
                if dst is None:
                    raise CheckError(f"{where}: its DMA write record {r} lies outside buffer "
                                     f"{r['buffer']} ({img.size} bytes)")
                dst[...] = sdram.rows(shadow_out[d.operand].view(np.uint8), d.offset, d.rows,
                                      d.row_bytes, d.stride)
            # Back to poison for the next tile (only what this one set).
            for d, _ in reads:
                pat = _poison(shadow_in[d.operand].size).view(np.uint8)
                for v, p in zip(_slots(shadow_u8[d.operand], d), _slots(pat, d)):
                    v[...] = p
        for j, (cov, want) in enumerate(zip(covered, ref)):
            missing = np.flatnonzero(~cov & (want != _poison(want.size)))
            if len(missing):
                raise CheckError(f"{self._call(i, call)}: no tile writes output {j} at "
                                 f"elements {_spans(missing)}, which the fast run produced")
        if total_sat != int(sat):
            raise CheckError(f"{self._call(i, call)}: the tiles count {total_sat} saturations,"
                             f" the fast run {sat}")
        self.images.deliver(cr.post)
        self._check_homes(i, call, ref, tiles)

    def _indexed_rows(self, where, call, plan, slot_of, d, r, shadow_u8):
        """An indexed read (its rows named by int32 numbers an earlier read of the tile
        brought into DTCM at d.index_slot) as one plain read per row, from the numbers the
        shadow now holds; a number outside the operand fails."""
        src = [e for e in plan.dmas if e.dir == kdma.READ and slot_of[id(e)] == d.index_slot
               and not isinstance(e.operand, str) and e.rows == 1]
        if not src or src[0].row_bytes < 4 * d.rows:
            raise CheckError(f"{where}: its indexed read {d} finds no read of its {d.rows} row "
                             f"numbers at DTCM byte {d.index_slot}")
        e = src[0]
        idx = shadow_u8[e.operand][e.offset:e.offset + 4 * d.rows].view("<i4").astype(np.int64)
        size = call.inputs[d.operand].nbytes
        start = d.offset + d.stride * idx
        bad = np.flatnonzero((idx < 0) | (start + d.row_bytes > size))
        if len(bad):
            raise CheckError(f"{where}: its indexed read names row {int(idx[bad[0]])} of "
                             f"input {d.operand} ({size} bytes, rows of {d.stride})")
        return [(kdma.block(kdma.READ, d.operand, int(s), d.row_bytes),
                 dict(r, dir=_DIR[kdma.READ], offset=r["offset"] + int(s) - d.offset, rows=1,
                      stride=d.row_bytes, index_slot=0))
                for s in start.tolist()]

    def _pairs(self, where, call, plan, ph):
        """The plan's transfers beside the stream's DMA records of the tile (same order),
        each inside its operand."""
        if len(ph.dmas) != len(plan.dmas):
            raise CheckError(f"{where}: its stream has {len(ph.dmas)} DMA records, its plan "
                             f"{len(plan.dmas)} transfers")
        for k, (d, r) in enumerate(zip(plan.dmas, ph.dmas)):
            if not isinstance(d.operand, str):
                _whole(d)
                size = (call.inputs if d.dir == kdma.READ else call.outputs)[d.operand].nbytes
                if not sdram.inside(size, d.offset, 1 if d.indexed else d.rows, d.row_bytes,
                                    d.stride):
                    raise CheckError(f"{where}: transfer {d} lies outside its operand "
                                     f"({size} bytes)")
            if (r["rows"], r["row_bytes"], r["stride"], r["dir"]) != \
                    (d.rows, d.row_bytes, d.stride, streams.dma_dir(d)):
                raise CheckError(f"{where}: DMA record {k} of its stream {r} is not its "
                                 f"plan's transfer {d}")
        return list(zip(plan.dmas, ph.dmas))

    def _load(self, where, at, d, r, shadow, truth, wait):
        """DMA read d (stream record r) of a tile on chip `at` (index, x, y) whose phase waits
        for `wait` arrivals: the rows of its chip's image into the shadow; a row byte the chip
        does not hold, or that a packet brings in this Call after more arrivals than the
        phase waits for, fails, naming the buffer bytes."""
        chip, x, y = at
        img = self.images.get(r["buffer"], chip)
        src = sdram.rows(img, r["offset"], r["rows"], r["row_bytes"], r["stride"])
        if src is None:
            raise CheckError(f"{where}: its DMA read record {r} lies outside buffer "
                             f"{r['buffer']} ({img.size} bytes)")
        pos = (r["offset"] + r["stride"] * np.arange(r["rows"], dtype=np.int64)[:, None]
               + np.arange(r["row_bytes"], dtype=np.int64)).reshape(-1)
        arrival = self.images.arrivals(r["buffer"], chip, pos)
        if arrival is not None and arrival.max(initial=0) > wait:
            late = np.unique(pos[arrival > wait])
            name = self.replay.table.entries[r["buffer"]][0]
            raise CheckError(f"{where}: reads bytes {_spans(late)} of buffer {r['buffer']} "
                             f"({name}) that packets bring to chip ({x}, {y}) in this Call as "
                             f"its arrival {int(arrival.max())}, but its phase waits for "
                             f"{wait} arrivals: nothing orders the read after them")
        dst = sdram.rows(shadow, d.offset, d.rows, d.row_bytes, d.stride)
        dst[...] = src
        want = sdram.rows(truth, d.offset, d.rows, d.row_bytes, d.stride)
        if not np.array_equal(dst, want):
            # Whole elements (a poison byte may equal the data's by chance).
            bad = np.argwhere(dst.view(np.int16) != want.view(np.int16))
            pos = r["offset"] + r["stride"] * bad[:, 0] + 2 * bad[:, 1]
            pos = np.unique(np.r_[pos, pos + 1])
            name = self.replay.table.entries[r["buffer"]][0]
            raise CheckError(f"{where}: reads bytes {_spans(pos)} of buffer {r['buffer']} "
                             f"({name}) that chip ({x}, {y}) "
                             f"does not hold: no Home puts them there and no packet record "
                             f"brings them")
        # Rows laid out dtcm_stride apart in DTCM have a zero-filled gap; where that is also
        # their SDRAM stride (packed weight rows), the kernel sees zeros there.
        if d.row_bytes < d.dtcm_stride == d.stride:
            for v in _slots(shadow, d)[1:]:
                v[...] = 0

    def _check_homes(self, i, call, ref, tiles):
        """Every byte of each output must be in the image of the chip its Home names."""
        from .place import chip_xy
        pl = self.replay.placement
        for j, o in enumerate(call.outputs):
            h = pl.homes.get(o.id)
            if h is None:
                continue
            bi, off = self.replay.outputs[o.id]
            truth = ref[j].view(np.uint8)
            if h.replicated:
                parts = [(c, 0, truth.size) for c in h.chips.tolist()]
            else:
                parts = zip(h.chips.tolist(), h.starts.tolist(), h.stops.tolist())
            for c, s, e in parts:
                got = self.images.get(bi, c)[off + s:off + e]
                if not np.array_equal(got, truth[s:e]):
                    bad = 2 * np.flatnonzero(got.view(np.int16) != truth[s:e].view(np.int16)) + s
                    bad = np.unique(np.r_[bad, bad + 1])
                    by = sorted({f"({x}, {y}) core {core}" for _, _, (x, y, core), ph in tiles
                                 if any(r["dir"] == _DIR[kdma.WRITE] and r["buffer"] == bi
                                        and _covers(r, off + int(bad[0])) for r in ph.dmas)})
                    raise CheckError(
                        f"{self._call(i, call)}: output {j} bytes {_spans(bad)} are homed on "
                        f"chip {chip_xy(self.machine, c)} but are not there after the Call "
                        f"(written by {', '.join(by) or 'no tile'}; no packet record brings "
                        f"them)")


def _covers(r, byte) -> bool:
    v = byte - r["offset"]
    if r["rows"] == 1 or r["stride"] == 0:
        return 0 <= v < r["row_bytes"]
    k = v // r["stride"]
    return 0 <= k < r["rows"] and 0 <= v - k * r["stride"] < r["row_bytes"]


def _slots(buf, d):
    """[rows view, gap view] of a read's bytes in a shadow: the gap (dtcm_stride > row_bytes
    with that stride in SDRAM too) is the zero fill between rows, clipped to the buffer."""
    v = sdram.rows(buf, d.offset, d.rows, d.row_bytes, d.stride)
    out = [v]
    if d.row_bytes < d.dtcm_stride == d.stride:
        g = d.dtcm_stride - d.row_bytes
        if d.rows > 1:
            out.append(sdram.rows(buf, d.offset + d.row_bytes, d.rows - 1, g, d.stride))
        last = d.offset + (d.rows - 1) * d.stride + d.row_bytes
        out.append(buf[last:min(last + g, buf.size)])
    return out


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
