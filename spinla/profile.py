"""spinla.profile(): cost every Program run inside a block and add it up per op label.

    with spinla.profile("spinn5") as p:
        y = train_step(x, w)
    print(p.report())

Inside the block ops lower for the given machine (the previous machine comes back after it),
every Program run (eager one-op Programs and spinla.jit Programs alike) is priced by
spinla.cost.cost_of, and the Costs are added per op label across runs.  All SpiNNaker figures
are modelled (spinla/cost.py says how); the one measured figure is the host wall time of the
block, labelled 'emulator wall time (host)' so it cannot pass for SpiNNaker time.
"""
from __future__ import annotations

import contextlib
import time

from . import runtime
from .cost import CallCost, Cost, add_runs, cost_of, transfer_cost
from .machine import Machine, current, get, use


class Profile:
    """Modelled costs of the Program runs seen while active: `total` (a Cost whose calls are
    merged per op), `ops` (one CallCost row per op label, first-seen order), `runs`."""

    def __init__(self, machine: Machine | None = None, charge_idle_chips: bool = True):
        self.machine = machine
        self.charge_idle_chips = charge_idle_chips
        self._total = Cost(machine=machine.name if machine is not None else "")
        self._pending = []          # Costs of the runs not yet added into _total, in order
        self.emulator_wall_s = 0.0
        self._t0 = None
        self.host_bytes = {}        # kind -> bytes uploaded to the machine (backends.upload)

    # backend transfer observer
    def on_transfer(self, t):
        if t.direction == "up":
            self.host_bytes[t.kind] = self.host_bytes.get(t.kind, 0) + t.nbytes

    @property
    def host_transfer_s(self) -> float:
        """Modelled seconds of the host-to-board uploads seen (Machine.host_link_bits_per_s);
        kept apart from the Programs' time, since a board can overlap them with compute."""
        return transfer_cost(sum(self.host_bytes.values()), self.machine or current())

    # runtime observer
    def on_run(self, program):
        """Note the run's Cost (cost_of keeps it beside the Program, so a traced Program is
        priced once); the totals are added up when read."""
        m = program.machine if isinstance(program.machine, Machine) else (
            self.machine or current())
        self._pending.append(cost_of(program, m, charge_idle_chips=self.charge_idle_chips))

    @property
    def total(self) -> Cost:
        """The Costs of every run so far added up, calls merged per op (exactly what adding
        them one run at a time gives: spinla.cost.add_runs)."""
        if self._pending:
            self._total, self._pending = add_runs(self._total, self._pending), []
        return self._total

    @property
    def runs(self) -> int:
        return self.total.runs

    @property
    def ops(self) -> list:
        return list(self.total.calls)

    def wall_s(self) -> float:
        """Host seconds spent inside the block so far (emulator wall time, not modelled)."""
        if self._t0 is not None:
            return self.emulator_wall_s + time.perf_counter() - self._t0
        return self.emulator_wall_s

    def to_dict(self) -> dict:
        m = self.machine
        return {
            "machine": self.total.machine or (m.name if m is not None else ""),
            "charge_idle_chips": self.charge_idle_chips,
            "runs": self.runs,
            "ops": [r.to_dict() for r in self.ops],
            "total": self.total.to_dict(),
            "host_upload_bytes": dict(self.host_bytes),
            "host_upload_time_s": self.host_transfer_s,
            "emulator_wall_time_host_s": self.wall_s(),
            "note": "every figure except emulator_wall_time_host_s is modelled SpiNNaker cost "
                    "(spinla.cost); emulator_wall_time_host_s is measured on the host",
        }

    def report(self) -> str:
        cols = [  # (header top, header bottom, width, getter)
            ("", "op", None, lambda r: r.op),
            ("", "calls", 7, lambda r: f"{r.calls:d}"),
            ("", "tiles", 8, lambda r: f"{r.tiles:d}"),
            ("max", "cores", 6, lambda r: f"{r.cores_used:d}"),
            ("", "MACs", 9, lambda r: _si(r.macs)),
            ("modelled", "cycles", 10, lambda r: _si(r.cycles)),
            ("modelled", "time ms", 10, lambda r: f"{r.time_s * 1e3:.4g}"),
            ("modelled", "energy mJ", 10, lambda r: f"{r.energy_j * 1e3:.4g}"),
            ("modelled util", "used cores", 13, lambda r: _pct(r.utilisation_used_cores)),
            ("modelled util", "machine", 13, lambda r: _pct(r.utilisation_machine)),
            ("modelled", "DMA MB", 9, lambda r: f"{r.dma_bytes / 1e6:.4g}"),
            ("modelled", "packets", 9, lambda r: _si(r.packets)),
            ("modelled", "bound", 8, lambda r: r.bound),
        ]
        rows = self.ops
        tot = self._total_row()
        w0 = max([len("op"), len("total")] + [len(r.op) for r in rows])
        widths = [w0] + [c[2] for c in cols[1:]]

        def line(cells):
            return "  ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}"
                             for i, (c, w) in enumerate(zip(cells, widths)))

        m = self.machine
        mdesc = (f"{m.name} ({m.boards} board(s), {m.chips} chips, {m.cores} application "
                 f"cores)" if m is not None else self.total.machine)
        out = [f"spinla profile on {mdesc}: {self.runs} Program run(s); 'modelled' columns "
               f"are SpiNNaker cost-model estimates (spinla.cost), not measurements",
               line([c[0] for c in cols]), line([c[1] for c in cols])]
        out.append("-" * len(out[-1]))
        out += [line([c[3](r) for c in cols]) for r in rows]
        out.append("-" * len(out[2]))
        out.append(line([c[3](tot) for c in cols]))
        t = self.total
        out.append(f"modelled total: {t.time_s * 1e3:.4g} ms, {t.energy_j * 1e3:.4g} mJ, "
                   f"{_pct(t.utilisation_used_cores)} of the {t.cores_used} cores used / "
                   f"{_pct(t.utilisation_machine)} of the machine's peak MAC rate, "
                   f"{t.busy_core_s:.4g} busy core-seconds")
        up = sum(self.host_bytes.values())
        out.append(f"modelled host-to-board uploads: {up / 1e6:.4g} MB in "
                   f"{self.host_transfer_s * 1e3:.4g} ms over the host link ("
                   + ", ".join(f"{k} {v / 1e6:.3g} MB" for k, v in self.host_bytes.items())
                   + ")")
        out.append(f"emulator wall time (host): {self.wall_s():.4g} s  (measured on this "
                   f"computer; not SpiNNaker time)")
        return "\n".join(out)

    def _total_row(self) -> CallCost:
        t = self.total
        row = CallCost(op="total", kernel="", calls=0)
        for r in self.ops:
            row = row + r
        # The program-level utilisation counts the cores of the whole Program, which the
        # per-call rows cannot: show the total's own figures.
        row.op, row.kernel = "total", ""
        row.cores_used = t.cores_used
        row.mac_capacity_used = t.mac_capacity_used
        row.mac_capacity_machine = t.mac_capacity_machine
        return row

    def __repr__(self):
        return self.report()


def _si(x: float) -> str:
    for k, s in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= k:
            return f"{x / k:.3g}{s}"
    return f"{x:.3g}"


def _pct(x: float) -> str:
    return f"{100 * x:.3g} %"


@contextlib.contextmanager
def profile(machine=None, *, charge_idle_chips: bool = True):
    """Profile the block: ops lower for `machine` (default: the current one), every Program
    run is costed on it, and the returned Profile adds the modelled costs up per op.  The
    observer is scoped to this thread and context (spinla/state.py): Programs other threads
    run meanwhile are not counted."""
    ctx = use(get(machine)) if machine is not None else contextlib.nullcontext(current())
    with ctx as m:
        p = Profile(m, charge_idle_chips)
        with runtime.observing(p):
            p._t0 = time.perf_counter()
            try:
                yield p
            finally:
                p.emulator_wall_s += time.perf_counter() - p._t0
                p._t0 = None


__all__ = ["Profile", "profile"]
