"""Placement: where every buffer of a Program lives and which core runs every tile.

Lowering only tiles a Program; `place(program, machine, strategy)` then maps it onto a
machine, and can be run again for another machine or strategy without re-lowering.  A
Placement holds, for every Call, the core of each tile (global application-core ids, see
Machine.core_location) and the chips it uses, and for every Buffer its Home: byte ranges of
the buffer, each on one chip, or a copy on every chip of a set (replicated).  The cost model
(spinla.cost) prices a Program under a Placement: link traffic from the actual homes and
routes, SDRAM per chip, CPU time per packet.

Strategies (the issue's, after Graphcore Poplar's tile mappings):
  model  model-parallel: a buffer nobody in the Program writes (weights, optimiser state,
         the batch) is resident where its first reader reads it; an output lives where the
         tiles that wrote it ran; a Call that reads other chips' bytes gets them as
         multicast packets along routed trees.
  data   data-parallel: the Program's batch inputs (Program.batch_inputs, the rows of one
         sample each) are split into contiguous batch slices, one per replica chip; the
         other buffers nobody writes are replicated on the replicas.  A Call runs in data
         mode only where it is batch-separable: every tile reads the bytes of its
         partitioned (not replicated) inputs from one chip, by its declared reads (the DMA
         plans where the kernel has no closed form), and runs there; its outputs then live
         where its tiles wrote them, so a chain of such calls keeps each replica's rows on
         its chip.  A Call whose tiles need more than one replica's rows (a gradient's
         combining call reading every replica's int64 partials, a transpose across the
         batch) is not data-parallel: it is placed model-parallel and reads the other
         chips' bytes as multicast packets - the combining call's tiles, flat ranges of the
         weights spread over chips, are the reduce-scatter of the gradient all-reduce.  A
         data-mode Call that reads only replicated buffers (a weight transpose) writes its
         output to every replica (an all-gather, priced as packets from each writer), and
         an optimiser's updated weights go back to where its weights came from (every
         replica, when they were replicated): the all-gather of the updated weights.  No
         transfer is assumed that the tiles and homes do not state.
  best   each Call takes whichever of the two (and of the chip counts tried) the cost
         model prices lower, given where its inputs already are, on each replica count; also
         with every batch-separable Call kept data-parallel (the greedy choice cannot see
         that a batch slice kept local pays later); the Program placed so, all-model or
         all-data, whichever the cost model prices lowest.
Resident inputs (Program.resident_inputs, spinla.jit's resident_args: a training set and the
epoch's order of its rows, loaded onto every chip before the Program runs; spinla.mapping
prices that loading) are replicated on every chip.  A Call whose inputs are all on every chip
(a batch gathered from the resident set, and what is made from it alone) may run 'local':
whole on every chip of a board (local_chips), each on its own copies, its outputs then on
each of them with no packet sent (Poplar's recompute-instead-of-exchange); its time is one
chip's, its busy cores and energy every chip's.  The greedy choice alone would rarely take it
(a call spread over many chips is faster on its own), so 'best' and 'model' also make passes
that take it wherever it is offered (local_first) and keep the cheapest Program.
For each model-mode Call the placer tries chip counts 1, 2, 4, ... up to the machine (never
more cores than tiles) and keeps the cheapest, preferring fewer chips when within MIN_GAIN:
small calls use few chips.  Data mode tries replica counts 1, 2, 4, ... and whole boards,
at most one per batch row (replica_counts), the batch slices on the chips nearest chip 0.
A buffer no Call writes is homed where its first reader reads it, a range several chips read
split evenly among them (so its broadcasts start from each).
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import numpy as np

from .machine import Machine
from .machine import get as _get_machine

STRATEGIES = ("model", "data", "best")
# A Call spreads to more chips only when that is at least this much faster (ASSUMPTION: a
# few per cent, so that noise in the cycle formulas does not spread small calls widely).
MIN_GAIN = 0.03
# ...and by at least this many cycles (ASSUMPTION: a quarter of a phase barrier; below that
# the extra chips' cores and routing entries buy nothing worth having).
MIN_GAIN_CYCLES = 500
FLAT_KERNELS = ("eltwise_q15", "lut_q15", "requant_q15", "adam_q15", "sgd_q15")
OPTIMISER_KERNELS = ("adam_q15", "sgd_q15")


class PlacementError(ValueError):
    """A Program does not fit the machine it is placed on."""


# --- where buffers live -------------------------------------------------------------------

@dataclass
class Home:
    """Byte ranges [starts, stops) of a buffer, part i on chips[i]; replicated: a whole copy
    on each chip of `chips` (starts/stops unused)."""

    chips: np.ndarray
    starts: np.ndarray
    stops: np.ndarray
    replicated: bool = False
    reader: int = -1     # id() of the Call whose reads laid it out (they are all local)

    @staticmethod
    def whole(chips, nbytes: int, replicated: bool = False) -> "Home":
        """The buffer split evenly, in chip order, over `chips` (or copied onto each)."""
        chips = np.asarray(sorted(set(int(c) for c in chips)), np.int64)
        if replicated:
            return Home(chips, np.zeros(len(chips), np.int64),
                        np.full(len(chips), nbytes, np.int64), True)
        b = np.linspace(0, nbytes, len(chips) + 1).round().astype(np.int64)
        return Home(chips, b[:-1], b[1:])

    @staticmethod
    def from_parts(chips, starts, stops) -> "Home":
        """Parts sorted by start; adjacent parts on the same chip merged; overlaps go to the
        first part (a byte lives in one place)."""
        order = np.lexsort((np.asarray(chips), np.asarray(starts)))
        c, s, e = (np.asarray(a, np.int64)[order] for a in (chips, starts, stops))
        if len(s) == 0:
            return Home(c, s, e)
        e = np.maximum.accumulate(e)
        s = np.maximum(s, np.concatenate([[0], e[:-1]]))
        keep = e > s
        c, s, e = c[keep], s[keep], e[keep]
        if len(s) > 1:
            new = np.ones(len(s), bool)
            new[1:] = (c[1:] != c[:-1]) | (s[1:] != e[:-1])
            idx = np.flatnonzero(new)
            ends = np.concatenate([idx[1:], [len(s)]]) - 1
            c, s, e = c[idx], s[idx], e[ends]
        return Home(c, s, e)

    def bytes_on(self) -> dict:
        """{chip: bytes on it}, chips in order of their first part (a home can have
        hundreds of thousands of parts: summed in NumPy)."""
        if len(self.chips) < 8:
            out = {}
            for c, s, e in zip(self.chips.tolist(), self.starts.tolist(),
                               self.stops.tolist()):
                out[c] = out.get(c, 0) + (e - s)
            return out
        u, first, inv = np.unique(self.chips, return_index=True, return_inverse=True)
        tot = np.bincount(inv.ravel(), weights=(self.stops - self.starts).astype(np.float64),
                          minlength=len(u))
        order = np.argsort(first, kind="stable")
        return dict(zip(u[order].tolist(), tot[order].astype(np.int64).tolist()))

    def nbytes(self) -> int:
        return int((self.stops - self.starts).sum()) if not self.replicated else int(
            self.stops[0] if len(self.stops) else 0)

    def shifted(self, offset: int, size: int) -> "Home":
        """The home of bytes [offset, offset + size) of this buffer, as a buffer of its own
        (a view)."""
        if self.replicated:
            return Home(self.chips, self.starts * 0, np.full(len(self.chips), size), True)
        s = np.clip(self.starts - offset, 0, size)
        e = np.clip(self.stops - offset, 0, size)
        keep = e > s
        return Home(self.chips[keep], s[keep], e[keep])


def _home_key_of(h):
    """Everything of a Home (or None) that pricing reads, hashable (spinla.cost's memos)."""
    if h is None:
        return None
    return (h.chips.dtype.str, h.chips.tobytes(), h.starts.dtype.str, h.starts.tobytes(),
            h.stops.dtype.str, h.stops.tobytes(), h.replicated, h.reader)


# --- what each tile reads and writes ------------------------------------------------------

def _flat_ranges(call, buf):
    """(tile, start, stop) byte ranges of `buf` that each tile of a flat-tiled call touches:
    the tile's own element range when the buffer is as large as the tiled range, else all
    of it (a broadcast operand, the learning rate)."""
    t = np.asarray(call.tiles)
    n = len(t)
    tile = np.arange(n)
    total = int(t[:, 1].max()) if n else 0
    if buf.size == total:
        return tile, 2 * t[:, 0].astype(np.int64), 2 * t[:, 1].astype(np.int64)
    return tile, np.zeros(n, np.int64), np.full(n, buf.nbytes, np.int64)


def _gemm_ranges(call, which):
    """Byte ranges of A (which=0), Bt (1) or C (2) that each gemm_q15 tile reads or writes."""
    t = np.asarray(call.tiles).astype(np.int64)
    p = call.params
    m, n, k = p["m"], p["n"], p["k"]
    bt = call.inputs[1]
    b = t[:, 0]
    if which == 0:
        return np.arange(len(t)), 2 * (b * m + t[:, 1]) * k, 2 * (b * m + t[:, 2]) * k
    if which == 1:
        bb = b if len(bt.shape) == 3 else 0 * b
        return np.arange(len(t)), 2 * (bb * n + t[:, 3]) * k, 2 * (bb * n + t[:, 4]) * k
    rows = t[:, 2] - t[:, 1]
    tile = np.repeat(np.arange(len(t)), rows)
    r = np.concatenate([np.arange(a, z) for a, z in zip(t[:, 1], t[:, 2])]) if len(t) else \
        np.zeros(0, np.int64)
    base = 2 * ((b[tile] * m + r) * n)
    return tile, base + 2 * t[tile, 3], base + 2 * t[tile, 4]


def _conv_geom(call):
    from .kernels.conv import _g, _input_rows
    g = _g(call.params["geom"])
    return g, _input_rows


def _conv_ranges(call, what):
    """conv2d_q15 tiles (p0, p1, c0, c1, xrow0) and conv2d_gw_q15 tiles (part, p0, p1, c0, c1,
    xrow0): the input rows of x they read, the pixels of y or d (taken whole, every channel:
    a slight over-statement when the channels are split), the partial they write."""
    g, input_rows = _conv_geom(call)
    t = np.asarray(call.tiles).astype(np.int64)
    off = 1 if call.kernel == "conv2d_gw_q15" else 0
    p0, p1 = t[:, off], t[:, off + 1]
    tile = np.arange(len(t))
    if what == "x":
        start, nrows = input_rows(g, p0, p1)
        rowb = 2 * g["w"] * g["cin"]
        return tile, start * rowb, (start + nrows) * rowb
    if what == "pixels":
        return tile, 2 * p0 * g["cout"], 2 * p1 * g["cout"]
    k, cout = g["kh"] * g["kw"] * g["cin"], g["cout"]
    kk = np.tile(np.arange(k), len(t))
    tile = np.repeat(tile, k)
    base = 8 * ((t[tile, 0] * k + kk) * cout)
    return tile, base + 8 * t[tile, 3], base + 8 * t[tile, 4]


def _gw_reduce_ranges(call):
    """conv2d_gw_reduce_q15 tiles [e0, e1) of the k x cout weights read that slice of every
    partial (nparts, k x cout, 4 words)."""
    t = np.asarray(call.tiles).astype(np.int64)
    npart = call.params["nparts"]
    ne = call.params["k"] * call.params["cout"]
    tile = np.repeat(np.arange(len(t)), npart)
    p = np.tile(np.arange(npart), len(t))
    return tile, 8 * (p * ne + t[tile, 0]), 8 * (p * ne + t[tile, 1])


_RANGES: dict = {}


def _remembered(kind: str, call, i, make):
    """make(call, i), kept per (call, kind, i): a call's byte ranges depend on its tiles
    only, and the placer and the cost model ask for them on every option they try.  The
    arrays are shared: callers must not write into them."""
    key = (id(call), kind, i)
    hit = _RANGES.get(key)
    if hit is None or hit[0]() is not call or hit[1] is not call.tiles:   # ids get reused
        if len(_RANGES) > 4096:
            _RANGES.clear()
        # A weak reference: the call's buffers (and their data) must not outlive it here.
        hit = _RANGES[key] = (weakref.ref(call), call.tiles, make(call, i))
    return hit[2]


def reads(call, i, exact: bool = False):
    """(tile, start, stop) byte ranges of input i each tile reads, or None where the kernel
    has no closed form for them (then a tile's reads are taken as spread evenly over the
    buffer).  exact: where it has none, the ranges of the tiles' DMA plans
    (spinla/kernels/dma.py) - what data-parallel placement checks and prices."""
    r = _remembered("reads", call, i, _reads)
    if r is None and exact:
        r = _remembered("plan_reads", call, i, _plan_reads)
    return r


def writes(call, j, exact: bool = False):
    """(tile, start, stop) byte ranges of output j each tile writes, or None (exact: from
    the DMA plans where the kernel has no closed form)."""
    w = _remembered("writes", call, j, _writes)
    if w is None and exact:
        w = _remembered("plan_writes", call, j, _plan_writes)
    return w


def _plan_writes(call, j):
    from .kernels.dma import WRITE
    return _plan_ranges(call, WRITE, j)


def _plan_ranges(call, direction, j):
    """(tile, start, stop) of every row of the tiles' DMA plans moving operand j in
    `direction`, or None for a kernel without plans."""
    from .kernels import dma as kdma
    if call.kernel not in kdma.PLANS:
        return None
    ts, ss, es = [], [], []
    for t in range(call.ntiles):
        for d in kdma.plan(call, t).dmas:
            if d.dir == direction and not isinstance(d.operand, str) and d.operand == j:
                if d.indexed:       # rows known only at run time: any of the operand
                    ops = call.inputs if direction == kdma.READ else call.outputs
                    a, z = np.zeros(1, np.int64), np.asarray([ops[j].nbytes], np.int64)
                else:
                    a, z = d.byte_ranges()
                ts.append(np.full(len(a), t, np.int64))
                ss.append(a)
                es.append(z)
    if not ts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ts), np.concatenate(ss), np.concatenate(es)


def _plan_reads(call, i):
    from .kernels.dma import READ
    return _plan_ranges(call, READ, i)


def _reads(call, i):
    if call.kernel in FLAT_KERNELS:
        return _flat_ranges(call, call.inputs[i])
    if call.kernel == "gemm_q15":
        return _gemm_ranges(call, i)
    if call.kernel == "conv2d_q15" and i == 0:
        return _conv_ranges(call, "x")
    if call.kernel == "conv2d_gw_q15":
        return _conv_ranges(call, "x" if i == 0 else "pixels")
    if call.kernel == "conv2d_gw_reduce_q15" and i == 0:
        return _gw_reduce_ranges(call)
    return None


def _writes(call, j):
    if call.kernel in FLAT_KERNELS:
        return _flat_ranges(call, call.outputs[j])
    if call.kernel == "gemm_q15":
        return _gemm_ranges(call, 2)
    if call.kernel == "conv2d_q15":
        return _conv_ranges(call, "pixels")
    if call.kernel == "conv2d_gw_q15":
        return _conv_ranges(call, "partial")
    if call.kernel == "conv2d_gw_reduce_q15":
        return _flat_ranges(call, call.outputs[j])
    return None


# --- the chip grid and its routes ---------------------------------------------------------

# Directions of the six links of a chip, as (dx, dy) on SpiNNaker's triangular grid:
# E, NE, N, W, SW, S (spinnaker_tools' link numbering 0..5).
DIRS = ((1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1))


def chip_xy(machine: Machine, chip: int):
    """(x, y) of a chip.  ASSUMPTION: a SpiNN-5 board is modelled as 8 x 6 chips (its 48
    chips form a hexagon in the real board; the hop counts differ by at most a few), a
    SpiNN-3 as 2 x 2, and the boards of a multi-board machine fill a rectangle of boards as
    near square as the board count allows; the wrap-around links of a multi-board torus are
    ignored (routes only get longer)."""
    w, h, bw = _layout(machine)
    board, local = divmod(int(chip), machine.chips_per_board)
    return (board % bw) * w + local % w, (board // bw) * h + local // w


def _layout(machine: Machine):
    """(chip columns, chip rows) of a board, and boards per row of the machine."""
    per = machine.chips_per_board
    w = 2 if per <= 4 else 8
    h = max(1, math.ceil(per / w))
    nb = max(1, machine.boards)
    d = max(k for k in range(1, math.isqrt(nb) + 1) if nb % k == 0)
    return w, h, nb // d


def _step(dx, dy):
    """The link direction of the next hop of dimension-order routing (diagonal first)."""
    if dx > 0 and dy > 0:
        return 1
    if dx < 0 and dy < 0:
        return 4
    if dx > 0:
        return 0
    if dx < 0:
        return 3
    return 2 if dy > 0 else 5


def route(machine: Machine, src: int, dst: int, xy_to_chip: dict):
    """Directed links (chip, direction) a packet from src to dst crosses."""
    x, y = chip_xy(machine, src)
    tx, ty = chip_xy(machine, dst)
    out, here = [], int(src)
    while (x, y) != (tx, ty):
        d = _step(tx - x, ty - y)
        out.append((here, d))
        x, y = x + DIRS[d][0], y + DIRS[d][1]
        here = xy_to_chip.get((x, y), here)
    return out


def grid(machine: Machine) -> dict:
    return {chip_xy(machine, c): c for c in range(machine.chips)}


_TREES: dict = {}


def route_tree(machine: Machine, src: int):
    """The dimension-order routes from chip src to every chip form a tree (a route's prefix
    is the route to the chip it passes): (parent chip of each chip, global id chip * 6 +
    direction of the link from its parent, the chips on the path to each chip).
    Cached per (machine, src)."""
    key = (machine.chips, machine.boards, src)     # all the layout depends on
    t = _TREES.get(key)
    if t is not None:
        return t
    n = machine.chips
    xy = np.asarray([chip_xy(machine, c) for c in range(n)], np.int64)
    lookup = {(int(x), int(y)): c for c, (x, y) in enumerate(xy)}
    dx, dy = xy[:, 0] - xy[src, 0], xy[:, 1] - xy[src, 1]
    same = dx * dy > 0
    ax, ay = np.abs(dx), np.abs(dy)
    hops = np.where(same, np.maximum(ax, ay), ax + ay)
    last = np.where(same, np.where(ax > ay, np.where(dx > 0, 0, 3),
                                   np.where(ay > ax, np.where(dy > 0, 2, 5),
                                            np.where(dx > 0, 1, 4))),
                    np.where(dy != 0, np.where(dy > 0, 2, 5), np.where(dx > 0, 0, 3)))
    step = np.asarray(DIRS)[last]
    px, py = xy[:, 0] - step[:, 0], xy[:, 1] - step[:, 1]
    parent = np.asarray([lookup.get((int(a), int(b)), src) for a, b in zip(px, py)], np.int64)
    parent[src] = src
    link = parent * 6 + last
    # paths[h] = the chips whose incoming tree link a packet to h crosses (h, its parent,
    # ...; the source excluded), padded with -1.
    depth = int(hops.max()) if n > 1 else 0
    paths = np.full((n, max(1, depth)), -1, np.int64)
    cur = np.arange(n)
    for d in range(depth):
        live = cur != src
        paths[live, d] = cur[live]
        cur = np.where(live, parent[cur], src)
    if len(_TREES) > 1024:
        _TREES.clear()
    t = _TREES[key] = (parent, link, paths)
    return t


# --- the placement ------------------------------------------------------------------------

@dataclass
class CallPlacement:
    cores: np.ndarray            # global application core of each tile
    mode: str = "model"          # 'model' or 'data'
    # Homes of outputs that do not live where their tiles wrote them: {output index: Home}
    # (an all-gather to every replica, an optimiser's weights back to their home).  The
    # bytes a tile writes that this home puts on other chips travel as packets.
    outputs: dict = field(default_factory=dict)
    # mode 'local': the call runs whole on each of these chips, on its own copy of its
    # inputs (all replicated there), the tiles on the same cores of each chip as `cores` gives
    # for the first; its outputs are then replicated on them with no packet sent.
    copies: np.ndarray | None = None

    def chips(self, machine: Machine) -> np.ndarray:
        if self.copies is not None:
            return np.asarray(self.copies, np.int64)
        return np.unique(np.asarray(self.cores, np.int64) // machine.app_cores_per_chip)

    def copy_cores(self, machine: Machine) -> list:
        """[(chip, cores of the tiles on it)]: one entry, or one per copy in mode 'local'."""
        cores = np.asarray(self.cores, np.int64)
        if self.copies is None:
            return [(None, cores)]
        a = machine.app_cores_per_chip
        return [(int(c), int(c) * a + cores % a) for c in self.copies]


@dataclass
class Placement:
    machine: Machine
    strategy: str
    calls: list = field(default_factory=list)      # CallPlacement per Call
    homes: dict = field(default_factory=dict)      # buffer id -> Home (after the Program)
    homes_in: list = field(default_factory=list)   # per Call: {buffer id: Home} of inputs
    # Calls a 'data' placement could not run data-parallel (index, op, why): they are
    # placed model-parallel instead.
    not_data: list = field(default_factory=list)
    replicas: list = field(default_factory=list)   # the data-parallel replica chips
    # Remembered traffic of reads (spinla.cost._reads_remote_memo), shared by the passes of
    # one place(); None: price afresh, without the prices shared between Programs either.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def chips_used(self) -> np.ndarray:
        used = [cp.chips(self.machine) for cp in self.calls if len(cp.cores)]
        return np.unique(np.concatenate(used)) if used else np.zeros(0, np.int64)


_ORDERS: dict = {}


def _chip_order(machine: Machine, anchor: int, n: int):
    """n chips nearest to `anchor` (hops on the grid), anchor first."""
    key = (machine, anchor)
    order = _ORDERS.get(key)
    if order is None:
        ax, ay = chip_xy(machine, anchor)

        def hops(c):
            x, y = chip_xy(machine, c)
            dx, dy = x - ax, y - ay
            return (max(abs(dx), abs(dy)) if dx * dy > 0 else abs(dx) + abs(dy), c)
        if len(_ORDERS) > 4096:
            _ORDERS.clear()
        order = _ORDERS[key] = sorted(range(machine.chips), key=hops)
    return order[:n]


def assign(call, chips, machine: Machine, work=None) -> np.ndarray:
    """Cores for the tiles of `call` on `chips`: tiles in order, in contiguous runs of about
    equal work per core (work: per-tile cycles), so neighbouring tiles share a chip."""
    n = call.ntiles
    chips = sorted(int(c) for c in chips)
    a = machine.app_cores_per_chip
    ncores = max(1, min(n, len(chips) * a))
    # Fill whole chips first: cores of chip i are chips[i] * a + 0 .. a - 1.
    cores = np.asarray(chips, np.int64)[:, None] * a + np.arange(a, dtype=np.int64)
    cores = cores.T.ravel()[:ncores]                              # spread over chips first
    cores = np.sort(cores)
    w = np.ones(n) if work is None else np.maximum(np.asarray(work, np.float64), 1.0)
    mid = np.cumsum(w) - w / 2
    slot = np.minimum((mid / w.sum() * ncores).astype(np.int64), ncores - 1)
    return cores[slot].astype(np.int32)


def _counts_up_to(most: int, machine: Machine) -> list:
    """1, 2, 4, ... chips, one, two and four whole boards, and `most`, all up to `most`."""
    c, out = 1, []
    while c < most:
        out.append(c)
        c *= 2
    per = machine.chips_per_board
    out += [k * per for k in (1, 2, 4) if k * per < most]
    return sorted(set(out + [most]))


def _candidates(call, machine: Machine):
    """Chip counts to try: 1, 2, 4, ..., whole boards, and as many as the call has tiles."""
    return _counts_up_to(min(machine.chips, call.ntiles), machine)


def _anchor(call, homes: dict, machine: Machine) -> int:
    """The chip holding most of the call's largest input (where it should run)."""
    best, size = 0, -1
    for b in call.inputs:
        h = homes.get(b.id)
        if h is not None and b.nbytes > size and len(h.chips):
            on = h.bytes_on()
            best, size = max(on, key=on.get), b.nbytes
    return best


def batch_slices(buf, chips) -> Home:
    """A batch input split into contiguous batch slices (whole rows of its leading axis),
    slice r on the r-th of `chips` in increasing order: each data-parallel replica's
    share of the batch."""
    chips = np.asarray(sorted(set(int(c) for c in chips)), np.int64)
    nrows = buf.shape[0] if buf.shape else 1
    row = buf.nbytes // max(1, nrows)
    b = np.asarray([nrows * r // len(chips) for r in range(len(chips) + 1)], np.int64) * row
    keep = b[1:] > b[:-1]
    return Home(chips[keep], b[:-1][keep], b[1:][keep])


def _initial_home(buf, call, i, cp: CallPlacement, machine: Machine, mode: str,
                  batch=frozenset(), resident=frozenset()) -> Home:
    """Home of a buffer no Call writes, fixed by its first reader.  Data mode: a batch
    input in batch slices over the call's chips, an optimiser's state where its tiles read
    it (each replica updates its own flat ranges), anything else replicated.  A resident
    input (Program.resident_inputs: a data set, or the epoch's order of its rows, loaded
    onto every chip before the Program runs) is replicated on every chip of the machine,
    except that data mode keeps to each replica its batch slice of one that is also a
    batch input."""
    chips = cp.chips(machine)
    if buf.id in resident and not (mode == "data" and buf.id in batch):
        return Home.whole(np.arange(machine.chips), buf.nbytes, replicated=True)
    if mode == "data":
        if buf.id in batch:
            return batch_slices(buf, chips)
        state = call.kernel in OPTIMISER_KERNELS and i >= 2 and \
            buf.size == call.inputs[0].size
        if not state:
            return Home.whole(chips, buf.nbytes, replicated=True)
    r = reads(call, i)
    if r is None:
        # Laid out as its first reader reads it: each chip holds what its tiles read (the
        # kernel does not say which bytes those are, only how many).
        h = Home.whole(chips, buf.nbytes)
        h.reader = id(call)
        return h
    tile, s, e = r
    chip = np.asarray(cp.cores, np.int64)[tile] // machine.app_cores_per_chip
    return Home.from_parts(*_spread_shared(chip, s, e))


def _spread_shared(chip, s, e):
    """(chips, starts, stops) of a first reader's reads with each byte range that several
    chips read (a gemm's activation rows, read by every chip of the call) split evenly
    among its readers, each piece kept by one of them: the broadcasts of it then start from
    every reader, not all from the lowest-numbered chip.  Ranges one chip reads are its."""
    if len(s) < 2:
        return chip, s, e
    rng = np.stack([s, e], 1)
    uniq, inv = np.unique(rng, axis=0, return_inverse=True)
    inv = inv.ravel()
    if len(uniq) == len(s):
        return chip, s, e
    oc, os_, oe = [], [], []
    for u, (a, z) in enumerate(uniq.tolist()):
        readers = np.unique(chip[inv == u])
        n = len(readers)
        # pieces of whole q15 elements, the k-th to reader (k + u) mod n
        cut = a + 2 * ((z - a) // 2 * np.arange(n + 1) // n)
        cut[-1] = z
        oc.append(np.roll(readers, -(u % n)))
        os_.append(cut[:-1])
        oe.append(cut[1:])
    return np.concatenate(oc), np.concatenate(os_), np.concatenate(oe)


def output_home(call, j, cp: CallPlacement, machine: Machine, homes: dict) -> Home:
    buf = call.outputs[j]
    if cp.copies is not None:       # mode 'local': every copy wrote all of it
        return Home.whole(cp.copies, buf.nbytes, replicated=True)
    if call.kernel == "view":
        src = homes.get(call.inputs[0].id)
        if src is not None:
            return src.shifted(2 * int(call.params.get("offset", 0)), buf.nbytes)
    w = writes(call, j)
    chip = np.asarray(cp.cores, np.int64) // machine.app_cores_per_chip
    if w is None:
        return Home.whole(np.unique(chip) if len(chip) else [0], buf.nbytes)
    tile, s, e = w
    return Home.from_parts(chip[tile], s, e)


def _check_fits(program, machine: Machine):
    """The machine must hold every tile in a core's DTCM (issue 9, bad input)."""
    for i, c in enumerate(program.calls):
        if c.ntiles and c.kernel != "view":
            worst = int(np.max(c.dtcm))
            if worst > machine.tile_budget_bytes:
                t = int(np.argmax(c.dtcm))
                raise PlacementError(
                    f"{program.name}: call {i} ({c.op}, {c.kernel}) tile {t} needs {worst:,} "
                    f"bytes of DTCM; {machine.name} gives a tile {machine.tile_budget_bytes:,}"
                    f" ({machine.dtcm_bytes:,} DTCM less {machine.dtcm_reserve_bytes:,} "
                    f"reserved)")


def _check_sdram(program, placement: Placement):
    """Peak SDRAM per chip (every buffer held at once: an upper bound) must fit."""
    m = placement.machine
    per_chip = np.zeros(m.chips)
    for bid, h in placement.homes.items():
        for c, nb in h.bytes_on().items():
            per_chip[c] += nb
    worst = int(np.argmax(per_chip)) if len(per_chip) else 0
    if len(per_chip) and per_chip[worst] > m.sdram_bytes_per_chip:
        big = max((b for b in program.buffers() if b.id in placement.homes),
                  key=lambda b: placement.homes[b.id].bytes_on().get(worst, 0))
        raise PlacementError(
            f"{program.name}: chip {worst} of {m.name} would hold {int(per_chip[worst]):,} "
            f"bytes of buffers (largest {big!r}, {big.nbytes:,} bytes); a chip has "
            f"{m.sdram_bytes_per_chip:,} bytes of SDRAM for applications")


def place(program, machine=None, strategy: str = "best", replicas: int | None = None
          ) -> Placement:
    """Map `program` onto `machine` (default: the one it was lowered for) with `strategy`
    ('model', 'data' or 'best'); data parallelism over `replicas` chips (default: each of
    replica_counts tried, the cheapest kept).  Raises PlacementError naming the call or
    buffer when the Program cannot fit."""
    if strategy not in STRATEGIES:
        raise ValueError(f"place: unknown strategy {strategy!r}; use one of "
                         f"{', '.join(STRATEGIES)}")
    m = _get_machine(machine) if machine is not None else (
        program.machine if isinstance(program.machine, Machine) else _get_machine("spinn5"))
    _check_fits(program, m)
    from .cost import _price
    memo = {}

    def cheapest(options):
        return min(options, key=lambda p: _price(program.calls, p, m, True).time_s)
    # The passes that run 'local' wherever it is offered are for batches drawn from resident
    # inputs; a Program without them keeps to the greedy choice.
    local = (False, True) if getattr(program, "resident_inputs", None) else (False,)
    if len(program.calls) <= 1:
        # One call (an eager op): the greedy 'best' pass already takes the cheaper mode and
        # chip set for it, which is what all-model or all-data could offer.
        pl = _greedy(program, m, strategy)
    elif strategy == "model":
        pl = cheapest([_greedy(program, m, "model", memo, local_first=lf) for lf in local])
    else:
        # Data parallelism on each replica count; the cheapest Program kept.
        # Data parallelism on each replica count, fewest first, until two in a row price
        # above the cheapest so far (ASSUMPTION: the time is unimodal in the count; it saves
        # placing a large machine's many counts); the cheapest Program kept.
        counts = replica_counts(program, m) if replicas is None else [int(replicas)]
        priced, worse = [], 0
        for r in counts:
            pl_r = _greedy(program, m, "data", memo, r)
            t = _price(program.calls, pl_r, m, True).time_s
            worse = worse + 1 if priced and t >= min(priced)[0] else 0
            priced.append((t, r, pl_r))
            if worse == 2:
                break
        _, r_best, data = min(priced, key=lambda x: (x[0], x[1]))
        if strategy == "data":
            pl = data
        else:
            # The per-call choice is greedy (each call takes the cheaper option given where
            # its inputs already are), which can lose to one strategy kept throughout: keep
            # the cheapest Program of these, the per-call passes on the data passes' best
            # replica count.
            pl = cheapest([_greedy(program, m, s, memo, r_best, lf)
                           for s in ("best", "prefer") for lf in local]
                          + [_greedy(program, m, "model", memo, local_first=lf)
                             for lf in local] + [data])
            pl.strategy = "best"
    _check_sdram(program, pl)
    _check_routes(program, pl)
    return pl


def data_cores(call, homes: dict, machine: Machine, work=None):
    """Cores of `call` run data-parallel given the homes of its inputs, or None where it is
    not batch-separable: each tile must read every byte of its partitioned (not
    replicated) inputs from one chip, by its declared reads (reads(exact=True)), and runs
    on that chip; a chip's tiles take its cores in contiguous runs of about equal work.
    None too where no input is partitioned (nothing says which replica a tile is on)."""
    n = call.ntiles
    tile_chip = np.full(n, -1, np.int64)
    partitioned = False
    for i, b in enumerate(call.inputs):
        h = homes.get(b.id)
        if h is None or h.replicated or len(h.chips) == 0:
            continue
        r = reads(call, i, exact=True)
        if r is None:
            return None
        partitioned = True
        tile, s, e = r
        keep = e > s
        tile, s, e = tile[keep], s[keep], e[keep]
        if len(tile) == 0:
            continue
        k = np.minimum(np.searchsorted(h.stops, s, side="right"), len(h.stops) - 1)
        if not ((h.starts[k] <= s) & (e <= h.stops[k])).all():
            return None                      # a read range crosses a part boundary
        c = h.chips[k]
        lo = np.full(n, np.iinfo(np.int64).max)
        hi = np.full(n, -1, np.int64)
        np.minimum.at(lo, tile, c)
        np.maximum.at(hi, tile, c)
        has = hi >= 0
        if (lo[has] != hi[has]).any():
            return None                      # a tile reads rows of two replicas
        if (has & (tile_chip >= 0) & (tile_chip != hi)).any():
            return None                      # two inputs put a tile on different chips
        tile_chip = np.where(has, hi, tile_chip)
    if not partitioned or (tile_chip < 0).all():
        return None
    # A tile that reads nothing partitioned (no work, or only replicated bytes) runs beside
    # the tile before it (or after it, for leading ones).
    idx = np.where(tile_chip >= 0, np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    first = int(np.flatnonzero(tile_chip >= 0)[0])
    tile_chip = np.where(tile_chip >= 0, tile_chip, tile_chip[np.maximum(idx, first)])
    a = machine.app_cores_per_chip
    w = np.ones(n) if work is None else np.maximum(np.asarray(work, np.float64), 1.0)
    cores = np.zeros(n, np.int64)
    for chip in np.unique(tile_chip).tolist():
        t = np.flatnonzero(tile_chip == chip)
        ncores = max(1, min(len(t), a))
        wt = w[t]
        mid = np.cumsum(wt) - wt / 2
        slot = np.minimum((mid / wt.sum() * ncores).astype(np.int64), ncores - 1)
        cores[t] = chip * a + slot
    return cores.astype(np.int32)


def _output_homes(call, cp: CallPlacement, homes: dict, machine: Machine,
                  replicate: bool = False):
    """Fill cp.outputs: the outputs that do not stay where their tiles wrote them.  An
    optimiser's updated weights go where the weights it read live (so the next step finds
    them there; every replica when they were replicated: the all-gather); with
    `replicate` (a data-mode call that read only replicated bytes) every output goes to
    each of the call's chips."""
    cp.outputs = {}
    if call.kernel in OPTIMISER_KERNELS and call.outputs:
        h = homes.get(call.inputs[0].id)
        if h is not None and call.outputs[0].nbytes == call.inputs[0].nbytes:
            cp.outputs[0] = h
    elif replicate:
        chips = cp.chips(machine)
        for j, b in enumerate(call.outputs):
            cp.outputs[j] = Home.whole(chips, b.nbytes, replicated=True)
    return cp


def _held_on(h, chips) -> bool:
    """Whether home h is a copy on each of `chips`."""
    return h is not None and h.replicated and set(chips.tolist()) <= set(h.chips.tolist())


def local_chips(m: Machine) -> np.ndarray:
    """The chips a 'local' call runs on: every chip of the board of chip 0 (ASSUMPTION: the
    calls that read a local call's outputs keep to one board, as the placer keeps most calls
    of an MNIST step; a reader elsewhere gets the bytes by packets, priced)."""
    return np.asarray(sorted(_chip_order(m, 0, m.chips_per_board)), np.int64)


def _options(call, mode, homes, m: Machine, anchor, work, batch, replicas,
             resident=frozenset()):
    """(CallPlacement, homes with the call's unplaced inputs added) of each option to try
    for `call` in `mode`.  model: its tiles in contiguous runs over the 1, 2, 4, ... chips
    nearest the anchor.  data: each tile on the chip holding its batch rows (the batch
    inputs, if not placed yet, in batch slices over `replicas`), only where the call is
    batch-separable; a call that reads no partitioned bytes (a weight transpose) runs over
    the replicas and writes its outputs to each of them."""
    placed_parts = any(b.id in homes and not homes[b.id].replicated for b in call.inputs)
    if mode == "data":
        trial = dict(homes)
        for b in call.inputs:
            if b.id not in trial and b.id in batch:
                trial[b.id] = batch_slices(b, replicas)
        if placed_parts or any(b.id in batch for b in call.inputs):
            cores = data_cores(call, trial, m, work)
            if cores is None:
                return
            cp = CallPlacement(cores, "data")
            replicate = False
        else:
            cp = CallPlacement(assign(call, replicas, m, work), "data")
            replicate = True
        for i, b in enumerate(call.inputs):
            if b.id not in trial:
                trial[b.id] = _initial_home(b, call, i, cp, m, mode, batch, resident)
        yield _output_homes(call, cp, trial, m, replicate), trial
        return
    for n in _candidates(call, m):
        trial = dict(homes)
        cp = CallPlacement(assign(call, _chip_order(m, anchor, n), m, work), mode)
        for i, b in enumerate(call.inputs):
            if b.id not in trial:       # a buffer no earlier call wrote
                trial[b.id] = _initial_home(b, call, i, cp, m, mode, batch, resident)
        yield _output_homes(call, cp, trial, m), trial
    # Every input on every chip (a batch drawn from a resident data set, and what is made
    # from it alone): the call can run whole on each chip, on the chip's own copies, and
    # leave its outputs replicated there without a packet (Poplar's "recompute rather than
    # exchange").  Its time is one chip's; every copy's cores are busy and charged.
    trial = dict(homes)
    copies = local_chips(m)
    cp = CallPlacement(assign(call, copies[:1], m, work), "local", copies=copies)
    for i, b in enumerate(call.inputs):
        if b.id not in trial:
            trial[b.id] = _initial_home(b, call, i, cp, m, mode, batch, resident)
    if len(copies) > 1 and all(_held_on(trial.get(b.id), copies) for b in call.inputs):
        yield _output_homes(call, cp, trial, m), trial


def replica_counts(program, machine: Machine) -> list:
    """Replica counts a data-parallel placement tries: 1, 2, 4, ... chips and whole boards,
    at most one per batch row."""
    rows = min((b.shape[0] for b in getattr(program, "batch_inputs", ()) if b.shape),
               default=1)
    return _counts_up_to(min(machine.chips, max(1, rows)), machine)


def _greedy(program, m: Machine, strategy: str, memo=None, nreplicas: int = 1,
            local_first: bool = False) -> Placement:
    """Calls in order, each on the cheapest of its candidate chip sets (and, for 'best', of
    the two modes) given the homes the calls before it left; data mode on `nreplicas`
    replica chips (the nearest to chip 0).  `memo`: priced calls shared with other passes
    over the same Program.  local_first: a call whose inputs are all on every chip runs
    'local' (whole on each chip), even where spreading it would be faster on its own: the
    greedy choice cannot see that its outputs, left on every chip, spare the calls after it
    their broadcasts."""
    # The placer asks the cost model which option is cheaper.
    from .cost import call_time_below, cycles_of
    pl = Placement(m, strategy)
    if memo is not None:
        pl.memo = memo
    # 'prefer': 'best', except that a batch-separable call always runs data-parallel (the
    # greedy choice cannot see that keeping a batch slice local pays in later calls).
    prefer_data = strategy == "prefer"
    modes = {"best": ("model", "data"), "prefer": ("data", "model")}.get(strategy, (strategy,))
    homes = pl.homes
    xy = grid(m)
    # The batch inputs and the views of them (a reshape of the images).
    batch = {b.id for b in getattr(program, "batch_inputs", ())}
    for call in program.calls:
        if call.kernel == "view" and call.inputs[0].id in batch:
            batch.add(call.outputs[0].id)
    batch = frozenset(batch)
    resident = {b.id for b in getattr(program, "resident_inputs", ())}
    for call in program.calls:
        if call.kernel == "view" and call.inputs[0].id in resident:
            resident.add(call.outputs[0].id)
    resident = frozenset(resident)
    replicas = sorted(_chip_order(m, 0, nreplicas))
    pl.replicas = replicas
    for i, call in enumerate(program.calls):
        if call.ntiles == 0 or call.kernel == "view":
            cp = CallPlacement(np.zeros(call.ntiles, np.int32), "model")
            best = (cp, None)
        else:
            work = cycles_of(call, m)
            anchor = _anchor(call, homes, m)
            best, best_t = None, math.inf
            tried = modes
            while best is None:
                for mode in tried:
                    for cp, trial in _options(call, mode, homes, m, anchor, work, batch,
                                              replicas, resident):
                        if (prefer_data and cp.mode == "data" and not cp.outputs) or (
                                local_first and cp.mode == "local"):
                            # Batch-separable: data-parallel, keeping the replicas' rows
                            # where they are for the calls after it (or, local_first, every
                            # chip computing its own copy).
                            best, best_t = (cp, trial), -math.inf
                        if best_t == -math.inf:
                            continue
                        # An option must beat the best so far by the margins; one whose
                        # lower bound cannot is not priced (the same choice, exactly).
                        limit = min(best_t * (1 - MIN_GAIN),
                                    best_t - MIN_GAIN_CYCLES / m.clock_hz)
                        t = call_time_below(call, cp, trial, pl, m, limit, xy)
                        if t is not None and t < limit:
                            best, best_t = (cp, trial), t
                if best is None:
                    # Not batch-separable: model-parallel, and said so.
                    pl.not_data.append((i, call.op, "its tiles read more than one "
                                        "replica's rows"))
                    tried = ("model",)
            cp = best[0]
            homes.update({k: v for k, v in best[1].items() if k not in homes})
        pl.homes_in.append({b.id: homes.get(b.id) for b in call.inputs})
        pl.calls.append(cp)
        for j, b in enumerate(call.outputs):
            if call.kernel == "view" and call.inputs[0].id not in homes:
                continue            # a view of an unplaced input: its first reader places it
            homes[b.id] = cp.outputs[j] if j in cp.outputs else \
                output_home(call, j, cp, m, homes)
    pl.mode_of = sorted({cp.mode for cp in pl.calls})
    return pl


def _check_routes(program, placement: Placement):
    """The routing table is loaded once for the Program, so the entries of all calls must fit
    together.  Checked against a lower bound: at least one entry per call on each chip its
    multicast trees touch (keys allocated per call so that one key/mask covers the call's
    trees through a chip; default routing of straight-through packets not relied on).  The
    upper bound, one entry per tree per chip, is what `spinla map` reports."""
    from .cost import _flows
    m = placement.machine
    per_call = [(_flows(c, cp, hin, placement, m) > 0).astype(np.int64)
                for c, cp, hin in zip(program.calls, placement.calls, placement.homes_in)]
    total = np.sum(per_call, axis=0) if per_call else np.zeros(m.chips)
    if len(total) and total.max() > m.router_entries_per_chip:
        chip = int(np.argmax(total))
        worst = int(np.argmax([e[chip] for e in per_call]))
        raise PlacementError(
            f"{program.name}: chip {chip} of {m.name} would need {int(total[chip]):,} "
            f"multicast routing entries (call {worst}, {program.calls[worst].op}, adds "
            f"{int(per_call[worst][chip]):,}); a chip's router has "
            f"{m.router_entries_per_chip:,}")


__all__ = ["place", "Placement", "CallPlacement", "Home", "PlacementError", "STRATEGIES",
           "reads", "writes", "route", "chip_xy", "assign"]
