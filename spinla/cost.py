"""The cost model: modelled SpiNNaker time, energy and traffic of a Program (or of one Call).

Every constant is a field of spinla.machine.Machine, which carries its source or says it is an
ASSUMPTION (`Machine.describe()` prints them); the per-tile cycle counts come from each kernel
family's cycle formula (KERNELS[call.kernel].cycles, spinla/kernels/*.py).  Symbols below:
f = clock_hz, B = sdram_bandwidth_bytes_per_s, S = dma_setup_cycles, P = packet_payload_bytes,
L = link_packets_per_s, K = links_per_chip, A = app_cores_per_chip.

Tile t of a call, on global core c(t) of chip h(t) = c // A:
    C_t  = kernel cycles;  D_t = dma_in_t + dma_out_t  (bytes)
    n_h  = cores of chip h busy in this phase (holding a tile with work)
    M_t  = D_t * n_h * f / B        DMA cycles at the core's fair share B / n_h of the SDRAM
    X_t  = [dma_in_t > 0] * (#input buffers) + [dma_out_t > 0] * (#output buffers)  transfers
    T_t  = max(C_t, M_t) + S * X_t  double buffering overlaps DMA with compute; set-up does not

A call is one phase ending in a barrier; inside it cores run in parallel, so it is a max, not a
sum:
    core bound   = max over cores c of sum_{t on c} T_t
    SDRAM bound  = max over chips h of (sum_{t on h} D_t) * f / B
    link bound   = max over chips h of packets_h * f / (L * min(K, U - 1))
    phase cycles = max(core, SDRAM, link bound) + barrier_cycles
With fair sharing the SDRAM bound is implied by the core bound; it is kept as an explicit lower
bound so that a change of the sharing rule cannot undercut it.  A call with no work at all (a
reshape `view`) is free: no phase, no barrier.  `bound` names the binding term: 'link',
'sdram' (the busiest core waits on its share of SDRAM more than it computes) or 'compute'.

Multi-chip traffic.  PLACEMENT ASSUMPTION: every buffer is spread evenly over the U chips the
Program uses (U = chips holding a tile with work), and a tile writes its output to its own
chip's SDRAM.  So a fraction (U - 1) / U of each tile's dma_in lives on other chips and arrives
as multicast packets of P payload bytes.  A chip takes each remote byte into its own SDRAM once,
however many of its tiles read it, so chip h receives
packets_h = ceil(min(sum_{t on h} dma_in_t, input bytes of the call) * (U - 1) / U / P), unless
the kernel filled Call.packets itself (then those are used; the Call is never mutated).  The
sending chip still reads those bytes from its SDRAM and, by the symmetry of the even spread,
every chip serves as many bytes as its tiles read, so the SDRAM terms above are unchanged.
Packets reaching a chip share min(K, U - 1) incoming links; relaying through intermediate
chips and the multicast tree's sharing of one packet among cores are both ignored.

Program: phases run one after another, so
    time = sum of phase cycles / f
    energy = sum over phases of
        idle_W * chips_charged * T  +  (active_W - idle_W) * busy_core_s / A
        + board_overhead_W * boards_charged * T
where busy_core_s = sum over the phase's cores of their busy time (sum of T_t, barrier wait
excluded), the active-minus-idle chip power is spread over A application cores, and by default
every chip and board of the machine is charged as idle (a board cannot power its chips down);
charge_idle_chips=False charges only the U used chips and the boards holding them.
    utilisation_used_cores = MACs / (peak MAC/s of the cores used x time)
    utilisation_machine    = MACs / (peak MAC/s of every application core x time)
with one 16-bit MAC per cycle per core as the peak (Machine.core_peak_macs_per_s).  Host <->
board transfers (asarray, to_numpy) are not part of any Program and are not modelled.
Core ids beyond the machine (a Program lowered for a larger machine) wrap round-robin.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

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
            link_bound_cycles=self.link_bound_cycles + other.link_bound_cycles, **kw)

    def __mul__(self, k: float) -> "CallCost":
        kw = {n: getattr(self, n) * k for n in _EXTENSIVE_CALL}
        if float(k).is_integer():
            kw["calls"], kw["tiles"] = int(kw["calls"]), int(kw["tiles"])
        return replace(self, cycles_max=self.cycles_max * k,
                       sdram_bound_cycles=self.sdram_bound_cycles * k,
                       link_bound_cycles=self.link_bound_cycles * k, **kw)

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

    _EXT = ("runs", "time_s", "cycles", "energy_j", "macs", "dma_bytes", "packets",
            "busy_core_s", "mac_capacity_used", "mac_capacity_machine")

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
        return Cost(machine=names.pop() if len(names) == 1 else ("mixed" if names else ""),
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
              "cores_used", "chips_used")}
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


def _py(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


# --- the model ----------------------------------------------------------------------------

@dataclass
class _Phase:
    call: Call
    cores: np.ndarray = None     # distinct global core ids holding a tile with work
    busy: np.ndarray = None      # per-core busy cycles (bincount by core id)
    cost: CallCost = None


def _vec(x, n) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,))


def _work(call: Call, machine: Machine):
    """Per working tile: kernel cycles, dma_in, dma_out, core id, optional packets."""
    n = call.ntiles
    if n == 0:
        return None
    cyc = _vec(KERNELS[call.kernel].cycles(call, machine), n)
    din, dout = _vec(call.dma_in, n), _vec(call.dma_out, n)
    work = (cyc > 0) | (din > 0) | (dout > 0)
    if not work.any():
        return None
    cores = np.asarray(call.cores, dtype=np.int64)[work] % machine.cores
    pk = None if call.packets is None else _vec(call.packets, n)[work]
    return cyc[work], din[work], dout[work], cores, pk


def _phase(call: Call, w, machine: Machine, u: int) -> _Phase:
    if w is None:
        return _Phase(call, np.zeros(0, np.int64), np.zeros(0),
                      CallCost(call.op, call.kernel, tiles=call.ntiles))
    cyc, din, dout, cores, pk = w
    f, a = machine.clock_hz, machine.app_cores_per_chip
    cpb = f / machine.sdram_bandwidth_bytes_per_s          # cycles per byte, whole chip
    chip = cores // a
    used = np.unique(cores)
    share = np.bincount(used // a)[chip]                   # busy cores on the tile's chip
    byt = din + dout
    dma = byt * share * cpb
    n_in = len({b.id for b in call.inputs})
    n_out = len({b.id for b in call.outputs})
    xfers = (din > 0) * n_in + (dout > 0) * n_out
    t = np.maximum(cyc, dma) + machine.dma_setup_cycles * xfers
    busy = np.bincount(cores, weights=t)
    core_bound = float(busy.max())
    sdram_bound = float(np.bincount(chip, weights=byt).max() * cpb)
    if pk is None:
        # A chip receives each remote input byte once (multicast into its SDRAM), however
        # many of its tiles then read it: at most the call's whole input per chip.
        in_bytes = float(sum({b.id: b.nbytes for b in call.inputs}.values()))
        chip_in = np.minimum(np.bincount(chip, weights=din), in_bytes)
        chip_pk = (np.ceil(chip_in * (u - 1) / u / machine.packet_payload_bytes) if u > 1
                   else np.zeros_like(chip_in))
    else:
        chip_pk = np.bincount(chip, weights=pk)
    pk_total = float(chip_pk.sum())
    links = max(1, min(machine.links_per_chip, u - 1))
    link_bound = float(chip_pk.max() * f / (machine.link_packets_per_s * links))
    top = int(np.argmax(busy))
    on_top = cores == top
    if link_bound > 0 and link_bound >= max(core_bound, sdram_bound):
        bound = "link"
    elif sdram_bound >= core_bound or dma[on_top].sum() > cyc[on_top].sum():
        bound = "sdram"
    else:
        bound = "compute"
    cycles = max(core_bound, sdram_bound, link_bound) + machine.barrier_cycles
    time_s = cycles / f
    cc = CallCost(op=call.op, kernel=call.kernel, tiles=call.ntiles, cores_used=len(used),
                  chips_used=len(np.unique(chip)), macs=float(np.sum(call.macs)),
                  cycles_max=core_bound, cycles=cycles, time_s=time_s,
                  dma_bytes=float(byt.sum()), packets=pk_total,
                  busy_core_s=float(t.sum()) / f,
                  mac_capacity_used=len(used) * machine.core_peak_macs_per_s * time_s,
                  mac_capacity_machine=machine.peak_macs_per_s * time_s, bound=bound,
                  sdram_bound_cycles=sdram_bound, link_bound_cycles=link_bound)
    return _Phase(call, used, busy, cc)


def _price(calls, machine: Machine, charge_idle_chips: bool) -> Cost:
    works = [_work(c, machine) for c in calls]
    chips = set()
    for w in works:
        if w is not None:
            chips.update(np.unique(w[3] // machine.app_cores_per_chip).tolist())
    u = max(1, len(chips))
    phases = [_phase(c, w, machine, u) for c, w in zip(calls, works)]
    if charge_idle_chips:
        n_chips, n_boards = machine.chips, machine.boards
    else:
        n_chips = len(chips)
        n_boards = len({h // machine.chips_per_board for h in chips})
    idle_w = machine.chip_idle_power_w * n_chips + machine.board_overhead_w * n_boards
    dyn_w = (machine.chip_active_power_w - machine.chip_idle_power_w) / machine.app_cores_per_chip
    ncc = max((len(p.busy) for p in phases), default=0)
    core_cycles = np.zeros(ncc)
    used = set()
    for p in phases:
        c = p.cost
        c.energy_j = idle_w * c.time_s + dyn_w * c.busy_core_s
        core_cycles[:len(p.busy)] += p.busy
        used.update(p.cores.tolist())
    cc = [p.cost for p in phases]
    time_s = sum(c.time_s for c in cc)
    return Cost(machine=machine.name, runs=1, time_s=time_s, cycles=sum(c.cycles for c in cc),
                energy_j=sum(c.energy_j for c in cc), macs=sum(c.macs for c in cc),
                dma_bytes=sum(c.dma_bytes for c in cc), packets=sum(c.packets for c in cc),
                busy_core_s=sum(c.busy_core_s for c in cc),
                mac_capacity_used=len(used) * machine.core_peak_macs_per_s * time_s,
                mac_capacity_machine=machine.peak_macs_per_s * time_s,
                cores_used=len(used), chips_used=len(chips), core_cycles=core_cycles, calls=cc)


def cost_of(program_or_call, machine=None, *, charge_idle_chips: bool = True) -> Cost:
    """Modelled cost of one run of a Program (or of a single Call) on `machine` (default: the
    Program's own machine, else the current one).  Programs cache their Cost per (machine,
    charge_idle_chips), since a traced Program runs many times; treat the result as read-only."""
    if isinstance(program_or_call, Call):
        m = _get_machine(machine) if machine is not None else _current()
        return _price([program_or_call], m, charge_idle_chips)
    if not isinstance(program_or_call, Program):
        raise TypeError(f"cost_of: expected a spinla Program or Call, got "
                        f"{type(program_or_call).__name__}")
    prog = program_or_call
    m = (_get_machine(machine) if machine is not None
         else prog.machine if isinstance(prog.machine, Machine) else _current())
    cache = getattr(prog, "_cost_cache", None)
    if cache is None:
        cache = prog._cost_cache = {}
    key = (m, bool(charge_idle_chips), len(prog.calls))
    c = cache.get(key)
    if c is None:
        c = cache[key] = _price(prog.calls, m, charge_idle_chips)
    return c




def transfer_cost(nbytes: float, machine=None) -> float:
    """Modelled seconds to move `nbytes` between the host and the machine over its boards'
    Ethernet links (Machine.host_link_bits_per_s each, boards in parallel)."""
    m = _get_machine(machine) if machine is not None else _current()
    return 8.0 * float(nbytes) / (m.host_link_bits_per_s * max(1, m.boards))


__all__ = ["Cost", "CallCost", "cost_of", "transfer_cost"]
