"""The cost model: modelled SpiNNaker time, energy and traffic of a Program (or of one Call),
following a placement (spinla.place): which core runs each tile and where each buffer lives.

Every constant is a field of spinla.machine.Machine, which carries its source or says it is an
ASSUMPTION (`Machine.describe()` prints them); the per-tile cycle counts come from each kernel
family's cycle formula (KERNELS[call.kernel].cycles, spinla/kernels/*.py).  Symbols below:
f = clock_hz, B = sdram_bandwidth_bytes_per_s, S = dma_setup_cycles, P = packet_payload_bytes,
L = link_packets_per_s, A = app_cores_per_chip, r / s = receive / send_cycles_per_packet.

Data movement.  A Call reads its inputs where their homes put them.  For each input and each
chip h running tiles of the call, the bytes its tiles read (stated byte ranges where the kernel
says them: flat element kernels, gemm, conv; for a data-parallel call, whose placement
follows them, the ranges of every kernel's DMA plans; else min(the tiles' reads, the
buffer), spread over the buffer's parts) that live on another chip s are a multicast flow from s: s sends the
union of what its destinations need once, ceil(bytes / P) packets; each link of the routed
tree (dimension-order routes on the chip grid, spinla.place.route, relays through
intermediate chips included) carries the packets of the destinations behind it, at most the
union; each destination receives its own.  Bytes received are written to, and bytes sent read
from, the chips' SDRAM.  Writes go where the output's home puts them (spinla.place CallPlacement.
outputs): bytes a tile writes that live on other chips (every replica of a replicated
output: an all-gather; an optimiser's weights back to their home) are multicast flows from
the writer's chip in the same way.  Nothing else moves: a data-parallel gradient all-reduce
is the Program's own calls (partials on the replicas, a combining call whose tiles read
every replica's partial slices: the reduce-scatter; the optimiser's replicated weights:
the all-gather), priced by these rules.

Tile t of a call, on global core c(t) of chip h(t) = c // A:
    C_t  = kernel cycles;  D_t = dma_in_t + dma_out_t  (bytes)
    n_h  = cores of chip h holding a tile with work in this phase
    M_t  = D_t * n_h * f / B        DMA cycles at the core's fair share B / n_h of the SDRAM
    X_t  = [dma_in_t > 0] * (#input buffers) + [dma_out_t > 0] * (#output buffers)  transfers
    T_t  = max(C_t, M_t) + S * X_t  double buffering overlaps DMA with compute; set-up does not
    Q_h  = r * packets received by h + s * packets sent by h, spread over all A cores of h
           (ASSUMPTION: the routing table gives every core of the chip a share of the keys)
A call is one phase ending in a barrier; inside it cores run in parallel, so it is a max:
    core bound   = max over cores c of sum_{t on c} T_t + Q_h(c) / A
    SDRAM bound  = max over chips h of (sum_{t on h} D_t + bytes h receives and sends) * f / B
    link bound   = (packets on the busiest directed link) * f / L
    phase cycles = max(core, SDRAM, link bound) + barrier_cycles
`bound` names the binding term: 'link', 'sdram', 'packets' (the busiest core spends over half
its time sending and receiving) or 'compute'.  A call with no work (a reshape `view`) is free.
The roofline of a call under the same placement is max(its kernel cycles spread evenly over
its cores, its SDRAM bytes spread evenly over its chips, the busiest link): what remains above
it is imbalance, DMA set-up, packet CPU time and barriers.

Program: phases run one after another, so
    time   = sum of phase cycles / f
    energy = sum over phases of board_idle_power_w * boards * T + core_active_power_w *
             busy core-seconds (tiles and packet handling) + packet_hop_energy_j * link hops
(SpiNNMachine's measured figures; charge_idle_chips=False charges only the used chips' share
of the idle board power).
    utilisation_used_cores = MACs / (peak MAC/s of the cores used x time)
    utilisation_machine    = MACs / (peak MAC/s of every application core x time)
with one 16-bit MAC per cycle per core as the peak (Machine.core_peak_macs_per_s).  Host to
board uploads (spinla.backends.upload) are priced by transfer_cost over the host link.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field, fields, replace

import numpy as np

from .beside import Beside
from .kernels import KERNELS
from .machine import Machine
from .machine import current as _current
from .machine import get as _get_machine
from .program import Call, Program

_EXTENSIVE_CALL = ("calls", "tiles", "macs", "cycles", "time_s", "energy_j", "dma_bytes",
                   "packets", "busy_core_s", "mac_capacity_used", "mac_capacity_machine")


class _Utilisation:
    """Utilisation of a cost with macs, mac_capacity_used and mac_capacity_machine fields."""

    @property
    def utilisation_used_cores(self) -> float:
        """MACs over the peak MACs of the cores used in the modelled time."""
        return self.macs / self.mac_capacity_used if self.mac_capacity_used > 0 else 0.0

    @property
    def utilisation_machine(self) -> float:
        """MACs over the peak MACs of every application core of the machine in that time."""
        return self.macs / self.mac_capacity_machine if self.mac_capacity_machine > 0 else 0.0


@dataclass
class CallCost(_Utilisation):
    """Modelled cost of one Call (one phase), or of several calls of one op added together
    (then `calls` counts them, `cores_used`/`chips_used` are the largest of any one call and
    `cycles_max` is summed like the phase cycles)."""

    op: str
    kernel: str
    calls: int = 1
    tiles: int = 0
    cores_used: int = 0
    chips_used: int = 0
    macs: float = 0.0
    cycles_max: float = 0.0      # busiest core's busy cycles (no barrier)
    cycles: float = 0.0          # phase cycles: max(core, SDRAM, link bound) + barrier
    time_s: float = 0.0
    energy_j: float = 0.0
    dma_bytes: float = 0.0
    packets: float = 0.0
    busy_core_s: float = 0.0
    mac_capacity_used: float = 0.0     # peak MACs the call's cores could do in time_s
    mac_capacity_machine: float = 0.0  # peak MACs every core of the machine could do in time_s
    bound: str = "none"          # 'compute', 'sdram', 'link', 'none' (no work), 'mixed'
    sdram_bound_cycles: float = 0.0
    link_bound_cycles: float = 0.0
    roofline_cycles: float = 0.0  # max(balanced compute, SDRAM, busiest link) of the placement
    link_hops: float = 0.0        # packets x links crossed
    mode: str = "model"           # the placement mode of the call ('model' or 'data')

    def __add__(self, other: "CallCost") -> "CallCost":
        if not isinstance(other, CallCost):
            return NotImplemented
        kw = {k: getattr(self, k) + getattr(other, k) for k in _EXTENSIVE_CALL}
        return CallCost(
            op=self.op if self.op == other.op else "mixed",
            kernel=self.kernel if self.kernel == other.kernel else "mixed",
            cores_used=max(self.cores_used, other.cores_used),
            chips_used=max(self.chips_used, other.chips_used),
            cycles_max=self.cycles_max + other.cycles_max,
            bound=_merge_bound(self, other),
            sdram_bound_cycles=self.sdram_bound_cycles + other.sdram_bound_cycles,
            link_bound_cycles=self.link_bound_cycles + other.link_bound_cycles,
            roofline_cycles=self.roofline_cycles + other.roofline_cycles,
            link_hops=self.link_hops + other.link_hops,
            mode=self.mode if self.mode == other.mode else "mixed", **kw)

    def __mul__(self, k: float) -> "CallCost":
        kw = {n: getattr(self, n) * k for n in _EXTENSIVE_CALL}
        if float(k).is_integer():
            kw["calls"], kw["tiles"] = int(kw["calls"]), int(kw["tiles"])
        return replace(self, cycles_max=self.cycles_max * k,
                       sdram_bound_cycles=self.sdram_bound_cycles * k,
                       link_bound_cycles=self.link_bound_cycles * k,
                       roofline_cycles=self.roofline_cycles * k, link_hops=self.link_hops * k,
                       **kw)

    __rmul__ = __mul__

    def to_dict(self) -> dict:
        d = {f.name: _py(getattr(self, f.name)) for f in fields(self)}
        d["utilisation_used_cores"] = self.utilisation_used_cores
        d["utilisation_machine"] = self.utilisation_machine
        return d


def _merge_bound(a: CallCost, b: CallCost) -> str:
    if a.bound == b.bound or b.bound == "none":
        return a.bound
    return b.bound if a.bound == "none" else "mixed"


@dataclass
class Cost(_Utilisation):
    """Modelled cost of one or more Program runs.  Extensive figures add under `+` and scale
    under `* k` (k runs); the utilisations are ratios of added sums.  `core_cycles[i]` is the
    busy cycles of global application core i (entries past the end are zero)."""

    machine: str = ""
    runs: int = 0
    time_s: float = 0.0
    cycles: float = 0.0
    energy_j: float = 0.0
    macs: float = 0.0
    dma_bytes: float = 0.0
    packets: float = 0.0
    busy_core_s: float = 0.0
    mac_capacity_used: float = 0.0
    mac_capacity_machine: float = 0.0
    cores_used: int = 0
    chips_used: int = 0
    core_cycles: np.ndarray = field(default_factory=lambda: np.zeros(0))
    calls: list = field(default_factory=list)
    roofline_s: float = 0.0      # sum over phases of the placement's roofline
    strategy: str = ""

    _EXT = ("runs", "time_s", "cycles", "energy_j", "macs", "dma_bytes", "packets",
            "busy_core_s", "mac_capacity_used", "mac_capacity_machine", "roofline_s")

    @property
    def dma_mb(self) -> float:
        return self.dma_bytes / 1e6

    def __add__(self, other: "Cost") -> "Cost":
        if isinstance(other, (int, float)) and other == 0:
            return self
        if not isinstance(other, Cost):
            return NotImplemented
        a, b = self.core_cycles, other.core_cycles
        n = max(len(a), len(b))
        cc = np.zeros(n)
        cc[:len(a)] += a
        cc[:len(b)] += b
        names = {self.machine, other.machine} - {""}
        kw = {k: getattr(self, k) + getattr(other, k) for k in self._EXT}
        strat = {self.strategy, other.strategy} - {""}
        return Cost(machine=names.pop() if len(names) == 1 else ("mixed" if names else ""),
                    strategy=strat.pop() if len(strat) == 1 else ("mixed" if strat else ""),
                    cores_used=max(self.cores_used, other.cores_used),
                    chips_used=max(self.chips_used, other.chips_used), core_cycles=cc,
                    calls=[*self.calls, *other.calls], **kw)

    __radd__ = __add__

    def __mul__(self, k: float) -> "Cost":
        kw = {n: getattr(self, n) * k for n in self._EXT}
        if float(k).is_integer():
            kw["runs"] = int(kw["runs"])
        return replace(self, core_cycles=self.core_cycles * k,
                       calls=[c * k for c in self.calls], **kw)

    __rmul__ = __mul__

    def by_op(self) -> dict:
        """Calls added up per op label, in first-seen order."""
        out = {}
        for c in self.calls:
            out[c.op] = out[c.op] + c if c.op in out else c
        return out

    def compact(self) -> "Cost":
        """The same Cost with its calls merged per op label (keeps long runs small)."""
        return replace(self, calls=list(self.by_op().values()))

    def to_dict(self) -> dict:
        d = {k: _py(getattr(self, k)) for k in
             ("machine", "runs", "time_s", "cycles", "energy_j", "macs", "dma_bytes",
              "packets", "busy_core_s", "mac_capacity_used", "mac_capacity_machine",
              "cores_used", "chips_used", "roofline_s", "strategy")}
        d["utilisation_used_cores"] = self.utilisation_used_cores
        d["utilisation_machine"] = self.utilisation_machine
        d["core_cycles"] = [float(x) for x in self.core_cycles]
        d["calls"] = [c.to_dict() for c in self.calls]
        return d

    def __repr__(self):
        return f"<Cost {self.summary()}; {self.runs} run(s), {len(self.calls)} call rows>"

    def summary(self) -> str:
        return (f"modelled on {self.machine}: {self.time_s * 1e3:.4g} ms, "
                f"{self.energy_j * 1e3:.4g} mJ, {self.macs:.4g} MACs, utilisation "
                f"{100 * self.utilisation_used_cores:.3g} % of the cores used / "
                f"{100 * self.utilisation_machine:.3g} % of the machine, "
                f"{self.dma_mb:.4g} MB DMA, {self.packets:.4g} packets")


# CallCost fields that add under `+` (the rest: op, kernel, mode and bound merge; cores_used
# and chips_used take the larger).
_ADD_CALL = _EXTENSIVE_CALL + ("cycles_max", "sdram_bound_cycles", "link_bound_cycles",
                               "roofline_cycles", "link_hops")


def _merged_name(values, empty):
    """What repeated `a if a == b else 'mixed'` (or, for bounds, ignoring 'none') gives."""
    vals = set(values) - {empty}
    return vals.pop() if len(vals) == 1 else ("mixed" if vals else empty)


def add_runs(total: Cost, runs) -> Cost:
    """`for c in runs: total = (total + c).compact()`, computed without the intermediate
    Costs: a profile adds one Cost per Program run, thousands per fit, mostly the same few.
    Every sum is made in the same order as that loop (an accumulate, i.e. a running sum, over
    the values in run order), so each figure is the loop's exactly; the merges of names and
    bounds and the maxima do not depend on order, nor does a field's type (int while every
    value added is an int)."""
    runs = list(runs)
    if not runs:
        return total
    everyone = [total] + runs
    groups = {}              # id(Cost) -> {op: (matrix of the added fields, rows)}
    for c in everyone:
        if id(c) not in groups:
            by = {}
            for r in c.calls:
                by.setdefault(r.op, []).append(r)
            groups[id(c)] = {op: (np.asarray([[getattr(r, k) for k in _ADD_CALL] for r in rs],
                                             np.float64), rs) for op, rs in by.items()}
    mats, contrib = {}, {}   # op -> matrices in run order; op -> {id(Cost): rows}
    for c in everyone:
        for op, (mat, rs) in groups[id(c)].items():
            mats.setdefault(op, []).append(mat)
            contrib.setdefault(op, {})[id(c)] = rs
    calls = []
    for op, ms in mats.items():
        rows = [r for rs in contrib[op].values() for r in rs]
        if sum(len(m) for m in ms) == 1:
            calls.append(rows[0])      # compact keeps a lone row itself
            continue
        sums = np.add.accumulate(np.concatenate(ms), axis=0)[-1].tolist()
        kw = {k: int(v) if all(type(getattr(r, k)) is int for r in rows) else v
              for k, v in zip(_ADD_CALL, sums)}
        calls.append(CallCost(
            op=_merged_name([r.op for r in rows], None),
            kernel=_merged_name([r.kernel for r in rows], None),
            cores_used=max(r.cores_used for r in rows),
            chips_used=max(r.chips_used for r in rows),
            bound=_merged_name([r.bound for r in rows], "none"),
            mode=_merged_name([r.mode for r in rows], None), **kw))
    distinct = list({id(c): c for c in everyone}.values())
    ext = np.add.accumulate(np.asarray([[getattr(c, k) for k in Cost._EXT] for c in everyone],
                                       np.float64), axis=0)[-1].tolist()
    kw = {k: int(v) if all(type(getattr(c, k)) is int for c in distinct) else v
          for k, v in zip(Cost._EXT, ext)}
    cc = np.zeros(max(len(c.core_cycles) for c in distinct))
    for c in everyone:
        cc[:len(c.core_cycles)] += c.core_cycles
    return Cost(machine=_merged_name([c.machine for c in distinct], ""),
                strategy=_merged_name([c.strategy for c in distinct], ""),
                cores_used=max(c.cores_used for c in distinct),
                chips_used=max(c.chips_used for c in distinct), core_cycles=cc, calls=calls,
                **kw)


def _py(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


# --- the model ----------------------------------------------------------------------------

def _uniq(x, bound: int) -> np.ndarray:
    """np.unique of non-negative integers below `bound` (sorted, int64), by counting them
    when the bound is small (chips and cores of a board or a few): cheaper than sorting."""
    if bound <= 1 << 16 and len(x):
        return np.flatnonzero(np.bincount(x))
    return np.unique(np.asarray(x, np.int64))


def _nbytes(b) -> int:
    """Bytes of a Buffer (Buffer.nbytes without NumPy, for the pricing's inner loops)."""
    return 2 * math.prod(b.shape)


def _vec(x, n) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,))


def _union(s, e):
    """Merge byte ranges; returns sorted disjoint (starts, stops)."""
    if len(s) == 0:
        return s, e
    o = np.argsort(s, kind="stable")
    s, e = s[o], np.maximum.accumulate(e[o])
    new = np.ones(len(s), bool)
    new[1:] = s[1:] > e[:-1]
    idx = np.flatnonzero(new)
    ends = np.concatenate([idx[1:], [len(s)]]) - 1
    return s[idx], e[ends]


def _covered(us, ue, a, b):
    """Per range [a, b): bytes of the sorted disjoint ranges [us, ue) inside it."""
    length = ue - us
    before = np.concatenate([[0], np.cumsum(length)])

    # Bytes of the ranges below x, for both ends in one pass (whole numbers: exact).
    x = np.concatenate([b, a])
    k = np.searchsorted(us, x, side="right") - 1
    kk = np.maximum(k, 0)
    part = np.minimum(np.maximum(x - us[kk], 0), length[kk])
    below = np.where(k >= 0, before[kk] + part, 0)
    return below[:len(b)] - below[len(b):]


def _below(s, e, x):
    """Bytes of the sorted disjoint ranges [s, e) below each x (whole numbers: exact)."""
    length = e - s
    before = np.concatenate([[0], np.cumsum(length)])
    k = np.searchsorted(s, x, side="right") - 1
    kk = np.maximum(k, 0)
    part = np.minimum(np.maximum(x - s[kk], 0), length[kk])
    return np.where(k >= 0, before[kk] + part, 0)


def _need(us, ue, span, nj, hs, he, sidx, nsrc):
    """need[i, j] (float64): bytes of chip j's reads that lie in the home parts [hs, he) on
    source i (sidx[p]: part p's source).  Chip j's reads are the sorted disjoint ranges
    [us, ue) in band j (shifted by j * span).  Two ways give the same whole numbers: each
    part looked up in every chip's reads (nj x parts lookups: few parts), or each read range
    looked up in every source's parts (sources x ranges: a home of many small parts, e.g.
    the rows of a gemm output, read in a few long runs)."""
    npart = len(hs)
    if nj * npart <= nsrc * len(us):
        off = np.repeat(np.arange(nj, dtype=np.int64) * span, npart)
        got = _covered(us, ue, np.tile(hs, nj) + off, np.tile(he, nj) + off).reshape(nj, npart)
        by_src = np.argsort(sidx, kind="stable")
        first = np.searchsorted(sidx[by_src], np.arange(nsrc))
        return np.add.reduceat(got[:, by_src], first, axis=1).T.astype(np.float64)
    band = us // span
    lo, hi = us - band * span, ue - band * span
    # Source i's parts moved to band i: sorted and disjoint over all sources, so the bytes of
    # source i inside a range of band-i coordinates are a difference of two _below values.
    order = np.lexsort((hs, sidx))
    shift = sidx[order].astype(np.int64) * span
    ps, pe = hs[order] + shift, he[order] + shift
    q = (np.arange(nsrc, dtype=np.int64) * span)[:, None]
    inside = _below(ps, pe, hi[None, :] + q) - _below(ps, pe, lo[None, :] + q)
    cell = (np.arange(nsrc, dtype=np.int64)[:, None] * nj + band[None, :]).ravel()
    # Sums of whole numbers below 2^53: exact in float64, in any order.
    return np.bincount(cell, weights=inside.ravel(), minlength=nsrc * nj).reshape(nsrc, nj)


class _Traffic:
    """Packets of one phase: sent and received per chip, per directed link (chip * 6 + link),
    and the routing-table entries the multicast trees need per chip."""

    def __init__(self, machine: Machine, xy=None):
        self.m = machine
        n = machine.chips
        self.sent, self.recv = np.zeros(n), np.zeros(n)
        self.bytes_in, self.bytes_out = np.zeros(n), np.zeros(n)
        self.links = np.zeros(n * 6)
        self.entries = np.zeros(n, np.int64)

    def flow(self, src: int, dests: dict, union_bytes: float):
        if dests:
            self.flow_vec(src, np.fromiter(dests.keys(), np.int64, len(dests)),
                          np.fromiter(dests.values(), np.float64, len(dests)), union_bytes)

    def flow_vec(self, src: int, idx: np.ndarray, nb: np.ndarray, union_bytes: float):
        """A multicast of `union_bytes` from chip src of which chip h needs dests[h] bytes:
        the source sends the union once, each link of the routed tree (spinla.place.
        route_tree: the dimension-order routes from src, which form a tree) carries the
        packets of the destinations behind it, at most the union; each destination receives
        its own."""
        from .place import route_tree
        p = self.m.packet_payload_bytes
        pu = math.ceil(union_bytes / p)
        if pu == 0:
            return
        keep = (idx != src) & (nb > 0)
        idx, nb = idx[keep], nb[keep]
        if len(idx) == 0:
            return
        ph = np.ceil(nb / p)
        self.sent[src] += pu
        self._add_out(src, union_bytes)
        self.recv[idx] += ph                    # idx holds each chip once
        self._add_in(idx, nb)
        parent, link, paths = route_tree(self.m, int(src))
        p_ = paths[idx]
        ok = p_ >= 0
        # packets into each chip over its tree link: those of every destination behind it
        below = np.bincount(p_[ok], weights=np.repeat(ph, ok.sum(axis=1)),
                            minlength=self.m.chips)
        on = np.flatnonzero(below)
        self.links[link[on]] += np.minimum(below[on], pu)     # one tree link into each chip
        self.entries[on] += 1
        self.entries[src] += 1

    def flows(self, srcs: np.ndarray, idx: np.ndarray, need: np.ndarray, unions: np.ndarray):
        """flow_vec(srcs[i], idx, need[i], unions[i]) for each i in turn, in one pass:
        `srcs` distinct, so each source's sent/bytes_out gets one addition as in the loop;
        packet counts are whole numbers, which add exactly in any order; bytes_in (byte
        counts may be fractional) is still added source by source in the loop's order.  The
        figures are the loop's, bit for bit."""
        if len(srcs) == 0:
            return
        p = self.m.packet_payload_bytes
        n = self.m.chips
        pu = np.ceil(unions / p)
        keep = (idx[None, :] != srcs[:, None]) & (need > 0) & (pu[:, None] > 0)
        live = np.flatnonzero(keep.any(axis=1))
        if len(live) == 0:
            return
        srcs, keep, need, pu = srcs[live], keep[live], need[live], pu[live]
        ph = np.where(keep, np.ceil(need / p), 0.0)
        self.sent[srcs] += pu
        self._add_out(srcs, unions[live])
        self.recv[idx] += ph.sum(axis=0)
        self._add_in_rows(idx, np.where(keep, need, 0.0))
        # Packets into each chip of each source's tree: those of every destination behind it.
        links, paths = _trees(self.m, srcs.tolist(), idx)       # (k, n), (k, len(idx), depth)
        k = len(srcs)
        ok = (paths >= 0) & keep[:, :, None]
        flat = (paths + (np.arange(k) * n)[:, None, None])[ok]
        w = np.broadcast_to(ph[:, :, None], paths.shape)[ok]
        below = np.bincount(flat, weights=w, minlength=k * n).reshape(k, n)
        ti, tc = np.nonzero(below)
        self.links += np.bincount(links[ti, tc], weights=np.minimum(below[ti, tc], pu[ti]),
                                  minlength=n * 6)
        self.entries += np.bincount(tc, minlength=n)
        self.entries[srcs] += 1

    # Byte counts may be fractional, so their additions are kept in order (see _Recorded).
    def _add_in(self, idx, nb):
        self.bytes_in[idx] += nb

    def _add_out(self, src, nb):
        self.bytes_out[src] += nb

    def _add_in_rows(self, idx, rows):
        """_add_in(idx, row) for each row in turn.  When the rows and what they add to are
        whole numbers, every partial sum is exact, so their sum is added at once."""
        if not np.any(rows % 1) and not np.any(self.bytes_in[idx] % 1):
            self.bytes_in[idx] += rows.sum(axis=0)
        else:
            for row in rows:
                self.bytes_in[idx] += row


class _Recorded(_Traffic):
    """The traffic of one input's reads, kept to be added again to another phase's _Traffic
    with the same result as making it there: packet counts and routing entries are whole
    numbers (they add exactly in any order), the byte additions are replayed in order."""

    def __init__(self, machine: Machine):
        super().__init__(machine)
        self.log = []

    def _add_in(self, idx, nb):
        self.log.append(("_add_in", idx, nb))

    def _add_in_rows(self, idx, rows):
        self.log.append(("_add_in_rows", idx, rows))

    def _add_out(self, src, nb):
        self.log.append(("_add_out", src, nb))

    def replay(self, traffic: _Traffic):
        traffic.sent += self.sent
        traffic.recv += self.recv
        traffic.links += self.links
        traffic.entries += self.entries
        for how, where, nb in self.log:
            getattr(traffic, how)(where, nb)


def _reads_remote_memo(call, i, cp, home, tile_chip, din_share, traffic: _Traffic, pl):
    """_reads_remote, its traffic remembered in `pl.memo` under everything it reads (the
    call, the input, each tile's chip, the input's home, whether the reads are exact): the
    placer tries one call's input on the same chips with the same home in both modes and in
    every pass.  din_share depends on the call alone."""
    from .place import _home_key_of
    memo = getattr(pl, "memo", None)
    if memo is None:
        return _reads_remote(call, i, cp, home, tile_chip, din_share, traffic, pl)
    key = ("reads", id(call), i, tile_chip.dtype.str, tile_chip.tobytes(), _home_key_of(home),
           cp.mode == "data")
    hit = memo.get(key)
    if hit is None or hit[0] is not call:        # an id can be reused once a call is gone
        rec = _Recorded(traffic.m)
        _reads_remote(call, i, cp, home, tile_chip, din_share, rec, pl)
        hit = memo[key] = (call, rec)
    hit[1].replay(traffic)


def _trees(machine: Machine, srcs: list, idx: np.ndarray):
    """The route trees (spinla.place.route_tree) of several source chips side by side: the
    tree link into every chip, (sources, chips), and the path to each chip of idx, padded
    with -1 to the deepest of them, (sources, len(idx), depth)."""
    key = (machine.chips, machine.boards, tuple(srcs), idx.dtype.str, idx.tobytes())
    hit = _TREES_OF.get(key)
    if hit is not None:
        return hit
    from .place import route_tree
    trees = [route_tree(machine, s) for s in srcs]
    depth = max(t[2].shape[1] for t in trees)
    paths = np.full((len(srcs), len(idx), depth), -1, np.int64)
    for i, (_, _, pt) in enumerate(trees):
        paths[i, :, :pt.shape[1]] = pt[idx]
    if len(_TREES_OF) > 4096:
        _TREES_OF.clear()
    hit = _TREES_OF[key] = (np.stack([t[1] for t in trees]), paths)
    return hit     # shared: callers must not write into these arrays


_TREES_OF: dict = {}


def _reads_remote(call, i, cp, home, tile_chip, din_share, traffic: _Traffic, pl):
    """Add the multicast flows that bring the bytes of input i the call's chips read but do
    not hold."""
    from .place import reads
    buf = call.inputs[i]
    if home is None or len(home.chips) == 0:
        return
    chips = _uniq(tile_chip, traffic.m.chips)
    if home.replicated:
        missing = [h for h in chips.tolist() if h not in set(home.chips.tolist())]
        src = int(home.chips[0])
        if missing:
            traffic.flow(src, {h: _nbytes(buf) for h in missing}, _nbytes(buf))
        return
    # A data-parallel call is placed by its tiles' exact reads (the DMA plans), so it is
    # priced by them too.
    r = reads(call, i, exact=cp.mode == "data")
    if r is None and home.reader == id(call):
        return              # laid out for this call's reads
    hc, hs, he = home.chips, home.starts, home.stops
    if r is None:
        # Reads spread evenly over the buffer: chip h needs min(its tiles' reads, the
        # buffer) bytes, each home part supplying its share.
        on = home.bytes_on()
        total = max(1, home.nbytes())
        need = np.minimum(np.bincount(tile_chip, weights=din_share)[chips],
                          float(_nbytes(buf)))
        d = np.asarray([need * (nb / total) * (chips != s) for s, nb in on.items()])
        # Each row summed on its own, as a 1-D sum, so the unions stay bit-identical.
        unions = np.asarray([min(float(nb), float(row.sum())) for row, nb in
                             zip(d, on.values())])
        traffic.flows(np.fromiter(on, np.int64, len(on)), chips, d, unions)
        return
    tile, rs, re = r
    tchip = np.searchsorted(chips, tile_chip[tile])      # index into chips
    src = _uniq(hc, traffic.m.chips)
    sidx = np.searchsorted(src, hc)
    # Every chip's reads in one pass: chip j's ranges are shifted by j * span, so ranges of
    # different chips never merge, and each home part is looked up once per chip.
    span = int(max(int(re.max()) if len(re) else 0, int(he.max()) if len(he) else 0)) + 1
    us, ue = _union(rs + tchip * span, re + tchip * span)
    need = _need(us, ue, span, len(chips), hs, he, sidx, len(src))
    own = np.isin(chips, src)
    need[np.searchsorted(src, chips[own]), np.flatnonzero(own)] = 0   # a chip's own part is local
    # The union a source sends: all of what any destination needs when they overlap (a
    # broadcast), their sum when they are disjoint; bounded by both.  (Byte counts are
    # whole numbers, so these float sums are exact in any order.)
    on = np.bincount(sidx, weights=he - hs, minlength=len(src))
    traffic.flows(src, chips, need, np.minimum(on, need.sum(axis=1)))


def _writes_remote(call, j, home, tile_chip, traffic: _Traffic):
    """Add the multicast flows that take the bytes the call's tiles write of output j to
    the chips its home puts them on other than the writer's: every copy of a replicated
    home, the owning chip of a partitioned one.  Each writer chip sends what it wrote once
    (a multicast to every copy); ranges a kernel does not state are taken as each tile's
    share of the output's bytes, in tile order."""
    from .place import writes
    if home is None or len(home.chips) == 0:
        return
    w = writes(call, j, exact=True)
    nb = float(_nbytes(call.outputs[j]))
    if w is None:
        n = call.ntiles
        b = np.linspace(0, nb, n + 1).round().astype(np.int64)
        w = (np.arange(n), b[:-1], b[1:])
    tile, s, e = w
    keep = e > s
    tile, s, e = tile[keep], s[keep], e[keep]
    if len(tile) == 0:
        return
    wchip = tile_chip[tile]
    src = _uniq(wchip, traffic.m.chips)
    sidx = np.searchsorted(src, wchip)
    if home.replicated:
        dst = np.asarray(home.chips, np.int64)
        # Per writer chip, the union of what it wrote (tiles of one call write disjoint
        # ranges; a kernel that writes a range twice sends it once).
        wrote = np.zeros(len(src))
        for k in range(len(src)):
            us, ue = _union(s[sidx == k], e[sidx == k])
            wrote[k] = float((ue - us).sum())
        need = np.where(dst[None, :] != src[:, None], wrote[:, None], 0.0)
        traffic.flows(src, dst, need, wrote)
        return
    dst = _uniq(home.chips, traffic.m.chips)
    need = np.zeros((len(src), len(dst)))
    didx = np.searchsorted(dst, home.chips)
    for ps, pe, d in zip(home.starts.tolist(), home.stops.tolist(), didx.tolist()):
        ov = np.clip(np.minimum(e, pe) - np.maximum(s, ps), 0, None)
        need[:, d] += np.bincount(sidx, weights=ov, minlength=len(src))
    need[src[:, None] == dst[None, :]] = 0       # a chip's own part is written locally
    traffic.flows(src, dst, need, need.sum(axis=1))


_CYCLES: dict = {}


def cycles_of(call: Call, machine: Machine) -> np.ndarray:
    """Per-tile kernel cycles of `call` on `machine` (its kernel's cycle formula), kept per
    (call, machine): the placer and the pricing ask for them on every option they try.  The
    array is shared: callers must not write into it."""
    key = (id(call), machine)
    hit = _CYCLES.get(key)
    if hit is None or hit[0]() is not call or hit[1] is not call.tiles:   # ids get reused
        if len(_CYCLES) > 8192:
            _CYCLES.clear()
        cyc = _vec(KERNELS[call.kernel].cycles(call, machine), call.ntiles)
        hit = _CYCLES[key] = (weakref.ref(call), call.tiles, cyc)
    return hit[2]


_LAST_LOCAL: list = [None, None]


def _local(call: Call, cores_all, m: Machine):
    """The part of a call's phase that needs no traffic: None for a call with no work, else
    (work mask, cycles, DMA in, DMA out, cores, chips, used cores, DMA cycles, busy cycles
    per core, SDRAM bytes per chip), each of the tiles with work.  The last one is kept: the
    placer asks for an option's lower bound and then prices the same option.  The arrays
    are shared: callers must not write into them."""
    key = (call, call.tiles, m, cores_all.dtype.str, cores_all.tobytes())
    last = _LAST_LOCAL[0]
    if last is not None and last[0] is call and last[1] is call.tiles and last[2] == m \
            and last[3:] == key[3:]:
        return _LAST_LOCAL[1]
    res = _local_of(call, cores_all, m)
    _LAST_LOCAL[0], _LAST_LOCAL[1] = key, res
    return res


def _local_of(call: Call, cores_all, m: Machine):
    n = call.ntiles
    if n == 0 or call.kernel == "view":
        return None
    cyc = cycles_of(call, m)
    din, dout = _vec(call.dma_in, n), _vec(call.dma_out, n)
    work = (cyc > 0) | (din > 0) | (dout > 0)
    if not work.any():
        return None
    a = m.app_cores_per_chip
    chip_all = cores_all // a
    cyc, din, dout = cyc[work], din[work], dout[work]
    cores, chip = cores_all[work], chip_all[work]
    cpb = m.clock_hz / m.sdram_bandwidth_bytes_per_s
    used = _uniq(cores, m.cores)
    per_chip = np.bincount(used // a, minlength=m.chips)
    share = per_chip[chip]
    byt = din + dout
    dma = byt * share * cpb
    n_in = len({b.id for b in call.inputs})
    n_out = len({b.id for b in call.outputs})
    xfers = (din > 0) * n_in + (dout > 0) * n_out
    t = np.maximum(cyc, dma) + m.dma_setup_cycles * xfers
    busy = np.bincount(cores, weights=t, minlength=m.cores)
    chip_bytes = np.bincount(chip, weights=byt, minlength=m.chips)
    return work, cyc, din, dout, cores, chip, used, dma, busy, chip_bytes


def time_lower_bound(call: Call, cp, machine: Machine) -> float:
    """A lower bound of the call's modelled time_s under placement cp: the phase without its
    traffic (packet CPU time, bytes sent and received, links).  Traffic only adds
    non-negative terms to the busy cycles and SDRAM bytes before the same max, barrier and
    division, and float rounding is monotonic, so the bound never exceeds call_cost's
    time_s: the placer skips pricing an option whose bound already loses."""
    m = machine
    loc = _local(call, np.asarray(cp.cores, dtype=np.int64) % m.cores, m)
    if loc is None:
        return 0.0
    busy, chip_bytes = loc[8], loc[9]
    cpb = m.clock_hz / m.sdram_bandwidth_bytes_per_s
    cycles = max(float(busy.max()), float(chip_bytes.max() * cpb), 0.0) + m.barrier_cycles
    return cycles / m.clock_hz


def _call_cost(call: Call, cp, homes: dict, pl, machine: Machine, xy=None):
    """(CallCost, the busy cycles of its cores as (global core ids, cycles) - the cores not
    listed are idle - or None, the chip sets of its multicast trees)."""
    from .place import grid
    n = call.ntiles
    m = machine
    cores_all = np.asarray(cp.cores, dtype=np.int64) % m.cores
    loc = _local(call, cores_all, m)
    if loc is None:
        return CallCost(call.op, call.kernel, tiles=n), None, _NO_ENTRIES
    work, cyc, din, dout, cores, chip, used, dma, busy, chip_bytes = loc
    din_all = _vec(call.dma_in, n)
    f, a = m.clock_hz, m.app_cores_per_chip
    chip_all = cores_all // a
    xy = xy if xy is not None else grid(m)
    traffic = _Traffic(m, xy)
    sizes = np.asarray([_nbytes(b) for b in call.inputs], np.float64)
    seen = set()
    for i, b in enumerate(call.inputs):
        if b.id in seen:
            continue
        seen.add(b.id)
        share = din_all * (sizes[i] / sizes.sum() if sizes.sum() else 0.0)
        _reads_remote_memo(call, i, cp, homes.get(b.id), chip_all, share, traffic, pl)
    for j, h in getattr(cp, "outputs", {}).items():
        _writes_remote(call, j, h, chip_all, traffic)
    cpb = f / m.sdram_bandwidth_bytes_per_s
    byt = din + dout
    # Packet CPU time of a chip, spread over all its application cores (ASSUMPTION: the
    # routing table gives each core of the chip a share of the keys, so idle cores of the
    # chip receive and send too).
    pk_cpu = (traffic.recv * m.receive_cycles_per_packet
              + traffic.sent * m.send_cycles_per_packet)
    busy = busy + np.repeat(pk_cpu / a, a)      # not in place: _local's array is shared
    core_bound = float(busy.max())
    chip_bytes = chip_bytes + (traffic.bytes_in + traffic.bytes_out)
    sdram_bound = float(chip_bytes.max() * cpb)
    link_max = float(traffic.links.max())
    link_bound = float(link_max * f / m.link_packets_per_s)
    top = int(np.argmax(busy))
    on_top = cores == top
    if link_bound > 0 and link_bound >= max(core_bound, sdram_bound):
        bound = "link"
    elif sdram_bound >= core_bound or dma[on_top].sum() > cyc[on_top].sum():
        bound = "sdram"
    elif pk_cpu.max() / a > 0.5 * core_bound:
        bound = "packets"
    else:
        bound = "compute"
    cycles = max(core_bound, sdram_bound, link_bound) + m.barrier_cycles
    time_s = cycles / f
    nchips = len(_uniq(chip, m.chips))
    roof = max(float(cyc.sum()) / len(used), float(chip_bytes.sum()) * cpb / nchips,
               link_bound)
    busy_s = float(busy.sum()) / f
    hops = float(traffic.links.sum())
    ncores, dma_total = len(used), float(byt.sum())
    sparse_busy = _sparse(busy)
    copies = getattr(cp, "copies", None)
    if copies is not None and len(copies) > 1:
        # Mode 'local': every copy chip runs the whole call at once, on its own inputs, as
        # the first (priced above) does: the same time, each copy's cores busy, SDRAM
        # traffic and energy; the MACs are the call's own (a copy's are redundant work).
        k = len(copies)
        ids, vals = sparse_busy
        shift = (np.asarray(copies, np.int64) - int(chip_all[0])) * a
        sparse_busy = ((ids[None, :] + shift[:, None]).ravel(), np.tile(vals, k))
        busy_s, ncores, nchips, dma_total = busy_s * k, ncores * k, k, dma_total * k
    return CallCost(op=call.op, kernel=call.kernel, tiles=n, cores_used=ncores,
                    chips_used=nchips, macs=float(np.sum(call.macs)),
                    cycles_max=core_bound, cycles=cycles, time_s=time_s,
                    dma_bytes=dma_total, packets=float(traffic.recv.sum()),
                    busy_core_s=busy_s,
                    mac_capacity_used=ncores * m.core_peak_macs_per_s * time_s,
                    mac_capacity_machine=m.peak_macs_per_s * time_s, bound=bound,
                    sdram_bound_cycles=sdram_bound, link_bound_cycles=link_bound,
                    roofline_cycles=roof, link_hops=hops, mode=cp.mode), \
        sparse_busy, _sparse(traffic.entries)


_NO_ENTRIES = (np.zeros(0, np.int64), np.zeros(0, np.int64))


def _sparse(a):
    """A per-core (or per-chip) array as (ids, values) of its nonzero entries: remembered
    prices stay small on a machine of a million cores, and adding only those entries into a
    sum adds what the whole array would (the rest are zeros)."""
    idx = np.flatnonzero(a)
    return idx, a[idx]


_PRICES: dict = {}
_PRICES_BYTES = [0]
_PRICES_BUDGET = 64 << 20     # bytes of keys and arrays kept, roughly; then start afresh
_CALL_KEYS: dict = {}


def call_key(call: Call):
    """Everything of a Call that placing and pricing read, hashable, with its buffers
    numbered in order of appearance (their ids differ between Programs) - or None where a
    parameter has no safe key.  Kept per call object.  Calls of the same structure in
    different Programs (the calibration Program and the training step share their forward
    and backward passes; each fit traces them anew) then share their prices."""
    hit = _CALL_KEYS.get(id(call))
    if hit is not None and hit[0]() is call and hit[1] is call.tiles:
        return hit[2]
    local = {}
    bufs = tuple((local.setdefault(b.id, len(local)), b.shape, b.fmt)
                 for b in (*call.inputs, *call.outputs))
    # Keys starting with '_' are host-side caches a kernel keeps on its Call (C pointers).
    params = _param_key({k: v for k, v in call.params.items() if not k.startswith("_")})
    key = None
    if params is not _NOKEY:
        arrays = tuple(None if a is None else (np.asarray(a).dtype.str, np.shape(a),
                                               np.asarray(a).tobytes())
                       for a in (call.tiles, call.macs, call.elems, call.dma_in, call.dma_out,
                                 call.dtcm, call.packets))
        key = (call.kernel, call.op, len(call.inputs), bufs, params, arrays,
               bool(call.stochastic))
    if len(_CALL_KEYS) > 8192:
        _CALL_KEYS.clear()
    # A weak reference: a Call's buffers (and their data) must not outlive it here.
    _CALL_KEYS[id(call)] = (weakref.ref(call), call.tiles, key)
    return key


def _price_key(call: Call, cp, homes: dict, pl, machine: Machine):
    """The key of _call_cost's result: the call's structure, the machine, its cores and mode,
    its inputs' homes (whether a home was laid out by this call's reads, not by which call)
    and the homes its outputs are sent to."""
    from .place import _home_key_of
    ck = call_key(call)
    if ck is None:
        return None
    cores = np.asarray(cp.cores)
    homes_k = []
    for b in call.inputs:
        h = homes.get(b.id)
        homes_k.append(None if h is None else (_home_key_of(h)[:-1], h.reader == id(call)))
    outs = tuple(sorted((j, _home_key_of(h)[:-1])
                        for j, h in getattr(cp, "outputs", {}).items()))
    return (ck, machine, cp.mode, cores.dtype.str, cores.tobytes(), tuple(homes_k), outs)


def _remember(key, value):
    size = len(key[4]) + 64 * len(key[5]) + sum(
        len(x) for h in key[5] if h is not None for x in h[0] if isinstance(x, bytes))
    busy, entries = value[1], value[2]
    size += 512 + (busy[0].nbytes + busy[1].nbytes if busy is not None else 0) + \
        entries[0].nbytes + entries[1].nbytes
    if _PRICES_BYTES[0] + size > _PRICES_BUDGET:
        _PRICES.clear()
        _PRICES_BYTES[0] = 0
    _PRICES[key] = value
    _PRICES_BYTES[0] += size
    return value


def _call_cost_memo(call: Call, cp, homes: dict, pl, machine: Machine, xy=None):
    """_call_cost, remembered (for a placement with a memo, i.e. any that place() makes)
    under everything _call_cost reads (_price_key): the placer tries the same call on the
    same chips with the same input homes many times, prices the winners again, and prices
    the same calls again in the next Program of a fit.  `pl.memo = None` prices afresh.
    The CallCost is copied out, since _price sets its energy."""
    if getattr(pl, "memo", None) is None:
        return _call_cost(call, cp, homes, pl, machine, xy)
    key = _price_key(call, cp, homes, pl, machine)
    hit = _PRICES.get(key) if key is not None else None
    if hit is None:
        hit = _call_cost(call, cp, homes, pl, machine, xy)
        if key is not None:
            _remember(key, hit)
    cc, busy, entries = hit
    return replace(cc), busy, entries


def call_time_below(call: Call, cp, homes: dict, pl, machine: Machine, limit: float, xy=None):
    """call_cost(...).time_s, or None when it is certainly not below `limit` (its
    time_lower_bound is not): the placer's test of an option, without pricing the traffic
    of options that cannot win."""
    key = _price_key(call, cp, homes, pl, machine) if getattr(pl, "memo", None) is not None \
        else None
    hit = _PRICES.get(key) if key is not None else None
    if hit is not None:
        return hit[0].time_s
    if limit != math.inf and time_lower_bound(call, cp, machine) >= limit:
        return None
    res = _call_cost(call, cp, homes, pl, machine, xy)
    if key is not None:
        _remember(key, res)
    return res[0].time_s


def call_cost(call: Call, cp, homes: dict, pl, machine: Machine, xy=None) -> CallCost:
    """Modelled cost of one Call under a placement (cp: its CallPlacement; homes: where its
    inputs live; pl: the Placement, for data-parallel bookkeeping)."""
    return _call_cost_memo(call, cp, homes, pl, machine, xy)[0]


def _flows(call: Call, cp, homes: dict, pl, machine: Machine) -> np.ndarray:
    """Routing-table entries per chip of a call's multicast trees under a placement."""
    idx, n = _call_cost_memo(call, cp, homes, pl, machine)[2]
    out = np.zeros(machine.chips, np.int64)
    out[idx] = n
    return out


def _energy(cc: CallCost, machine: Machine, n_chips: int) -> float:
    """Idle power of the chips charged (a board's measured idle power shared over its chips)
    for the phase, the measured per-core increment for each busy core-second, and the
    packets' link hops."""
    idle_w = machine.board_idle_power_w * n_chips / machine.chips_per_board
    return (idle_w * cc.time_s + machine.core_active_power_w * cc.busy_core_s
            + machine.packet_hop_energy_j * cc.link_hops)


def _price(calls, pl, machine: Machine, charge_idle_chips: bool) -> Cost:
    from .place import grid
    xy = grid(machine)
    res = [_call_cost_memo(c, cp, hin, pl, machine, xy)
           for c, cp, hin in zip(calls, pl.calls, pl.homes_in)]
    ccs = [r[0] for r in res]
    chips = pl.chips_used()
    n_chips = machine.chips if charge_idle_chips else max(1, len(chips))
    core_cycles = np.zeros(machine.cores)
    for cc, (_, busy, _) in zip(ccs, res):
        cc.energy_j = _energy(cc, machine, n_chips)
        if busy is not None:
            core_cycles[busy[0]] += busy[1]
    used = np.flatnonzero(core_cycles)
    core_cycles = core_cycles[:used.max() + 1] if len(used) else np.zeros(0)
    time_s = sum(c.time_s for c in ccs)
    return Cost(machine=machine.name, runs=1, time_s=time_s, cycles=sum(c.cycles for c in ccs),
                energy_j=sum(c.energy_j for c in ccs), macs=sum(c.macs for c in ccs),
                dma_bytes=sum(c.dma_bytes for c in ccs), packets=sum(c.packets for c in ccs),
                busy_core_s=sum(c.busy_core_s for c in ccs),
                mac_capacity_used=len(used) * machine.core_peak_macs_per_s * time_s,
                mac_capacity_machine=machine.peak_macs_per_s * time_s,
                cores_used=len(used), chips_used=len(chips), core_cycles=core_cycles,
                calls=ccs, roofline_s=sum(c.roofline_cycles for c in ccs) / machine.clock_hz,
                strategy=pl.strategy)


def _as_lowered(calls, machine: Machine):
    """The placement a Call's own `cores` give (for costing hand-placed Calls): inputs
    resident where their first reader reads them, outputs where they were written."""
    from .place import CallPlacement, Placement, _initial_home, output_home
    pl = Placement(machine, "lowered")
    written = {b.id for c in calls for b in c.outputs}
    for c in calls:
        cp = CallPlacement(np.asarray(c.cores, np.int64) % machine.cores, "model")
        for i, b in enumerate(c.inputs):
            if b.id not in pl.homes and b.id not in written:
                pl.homes[b.id] = _initial_home(b, c, i, cp, machine, "model")
        pl.homes_in.append({b.id: pl.homes.get(b.id) for b in c.inputs})
        pl.calls.append(cp)
        for j, b in enumerate(c.outputs):
            pl.homes[b.id] = output_home(c, j, cp, machine, pl.homes)
    return pl


def cost_of(program_or_call, machine=None, *, charge_idle_chips: bool = True,
            strategy: str = "best", placement=None) -> Cost:
    """Modelled cost of one run of a Program (or of a single Call) on `machine` (default: the
    Program's own machine, else the current one), placed by spinla.place.place with
    `strategy` ('model', 'data', 'best', or 'lowered': the cores lowering gave each tile),
    or under a ready `placement`.  A single Call is costed on its lowered cores.  A Program's
    Cost is kept beside it (costs_beside) per (machine, strategy, charge_idle_chips), since a
    traced Program runs many times; treat the result as read-only."""
    if isinstance(program_or_call, Call):
        m = _get_machine(machine) if machine is not None else _current()
        return _price([program_or_call], _as_lowered([program_or_call], m), m,
                      charge_idle_chips)
    if not isinstance(program_or_call, Program):
        raise TypeError(f"cost_of: expected a spinla Program or Call, got "
                        f"{type(program_or_call).__name__}")
    prog = program_or_call
    m = (_get_machine(machine) if machine is not None
         else prog.machine if isinstance(prog.machine, Machine) else _current())
    if placement is not None:
        return _price(prog.calls, placement, placement.machine, charge_idle_chips)
    cache = costs_beside(prog)
    key = (m, bool(charge_idle_chips), len(prog.calls), strategy)
    c = cache.get(key)
    if c is None:
        # Eager ops make a new one-op Program every time (a batch slice per training step);
        # placing and pricing depend only on the Program's structure, so equal structures
        # share one Cost.
        skey = _structure(prog)
        if skey is not None:
            skey = (skey, key)
            c = _STRUCTURAL.get(skey)
        if c is None:
            if strategy == "lowered":
                pl = _as_lowered(prog.calls, m)
            else:
                from .place import place
                pl = place(prog, m, strategy)
            c = _price(prog.calls, pl, m, charge_idle_chips)
            if skey is not None:
                if len(_STRUCTURAL) >= _STRUCTURAL_MAX:
                    _STRUCTURAL.pop(next(iter(_STRUCTURAL)))
                _STRUCTURAL[skey] = c
        cache[key] = c
    return c


_STRUCTURAL: dict = {}
_STRUCTURAL_MAX = 4096

# Costs kept beside each Program, not in it (spinla/beside.py): {(machine,
# charge_idle_chips, calls, strategy): Cost} per Program.
_BESIDE = Beside()


def costs_beside(prog: Program) -> dict:
    """The Costs of `prog` computed so far (a traced Program runs many times, and its cost
    for a given machine, strategy and charging is the same every run)."""
    return _BESIDE.get(prog, dict)


def forget_costs(prog: Program | None = None):
    """Drop the remembered Costs of `prog` (None: of every Program, and the prices shared
    between Programs), so that the next cost_of prices afresh."""
    if prog is None:
        _BESIDE.clear()
        _STRUCTURAL.clear()
        _PRICES.clear()
        return
    hit = _BESIDE.peek(prog)
    if hit is not None:
        hit.clear()


def _param_key(v):
    """A hashable stand-in for a Call parameter; _NOKEY where one cannot be made safely."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.ndarray):
        return (v.shape, v.dtype.str, v.tobytes())
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (tuple, list)):
        parts = tuple(_param_key(x) for x in v)
        return _NOKEY if any(p is _NOKEY for p in parts) else parts
    if isinstance(v, dict):
        parts = tuple((k, _param_key(x)) for k, x in sorted(v.items()))
        return _NOKEY if any(p is _NOKEY for _, p in parts) else parts
    return _NOKEY


_NOKEY = object()


def _structure(prog: Program):
    """Everything place() and the pricing read of `prog`, with buffers numbered by first use
    (their ids differ from Program to Program); None if a parameter has no safe key.
    Machine is keyed by the caller.  Only
    short Programs (eager ops) are keyed: a traced step is costed once anyway."""
    if len(prog.calls) > 4:
        return None
    if all(c.kernel == "view" for c in prog.calls):
        # Views move nothing: their Cost depends on their labels and tiles alone (each a
        # free call row; the lowered cores give the chips 'used').
        return ("views", tuple((c.op, c.ntiles, np.asarray(c.cores).tobytes())
                               for c in prog.calls))
    local, out = {}, []
    inputs = {b.id for b in prog.inputs}
    for c in prog.calls:
        bufs = []
        for b in (*c.inputs, *c.outputs):
            n = local.setdefault(b.id, len(local))
            bufs.append((n, b.shape, b.fmt, b.id in inputs, b.origin is not None))
        # A view moves nothing (it is free wherever it starts), so its offset is not part of
        # its structure: the batch slices of a training loop then share one Cost.
        # Keys starting with '_' are host-side caches a kernel keeps on its Call once it ran
        # (C pointers), not part of the work.
        pv = {k: v for k, v in c.params.items()
              if not k.startswith("_") and not (c.kernel == "view" and k == "offset")}
        params = _param_key(pv)
        if params is _NOKEY:
            return None
        arrays = tuple(a.tobytes() if a is not None else None
                       for a in (c.tiles, c.cores, c.macs, c.elems, c.dma_in, c.dma_out,
                                 c.dtcm, c.packets))
        out.append((c.kernel, c.op, tuple(bufs), len(c.inputs), params, arrays, c.stochastic))
    return tuple(out)


def transfer_cost(nbytes: float, machine=None) -> float:
    """Modelled seconds to move `nbytes` between the host and the machine over its boards'
    Ethernet links (Machine.host_link_bits_per_s each, boards in parallel)."""
    m = _get_machine(machine) if machine is not None else _current()
    return 8.0 * float(nbytes) / (m.host_link_bits_per_s * max(1, m.boards))


def resident_load_cost(nbytes: float, machine=None) -> tuple:
    """(seconds, joules) to load `nbytes` onto EVERY chip of the machine (a resident data set,
    spinla.jit's resident_args): the host link carries them once per board (transfer_cost),
    and each board's Ethernet chip multicasts them, as they arrive, down a tree to the
    board's other chips, each chip's cores receiving its packets (receive_cycles_per_packet,
    shared by the chip's application cores as for any Call's packets).  ASSUMPTION: the
    fan-out is pipelined with the upload, so the time is the slowest of the three rates, not
    their sum.  Energy: the machine's idle power for that time, the receiving cores' busy
    time and one link hop per packet per chip reached."""
    m = _get_machine(machine) if machine is not None else _current()
    packets = math.ceil(float(nbytes) / m.packet_payload_bytes)
    recv_s = packets * m.receive_cycles_per_packet / (m.app_cores_per_chip * m.clock_hz)
    time_s = max(transfer_cost(nbytes, m), packets / m.link_packets_per_s, recv_s)
    energy = (m.board_idle_power_w * m.boards * time_s
              + m.core_active_power_w * m.cores * recv_s
              + m.packet_hop_energy_j * packets * max(0, m.chips - m.boards))
    return time_s, energy


__all__ = ["Cost", "CallCost", "cost_of", "transfer_cost", "resident_load_cost"]
