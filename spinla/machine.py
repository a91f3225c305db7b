"""SpiNNaker machines: every hardware figure the lowering and the cost model use, in one place,
each with its source.  A figure without a public source is a named parameter whose source
says ASSUMPTION and why the value was chosen (see ../shared/spinnaker-facts.md for the sources
cited here).  The source text lives in each field's metadata, so `Machine.describe()` prints
exactly what the code uses and where it comes from.

Only SpiNNaker1 is modelled.  A SpiNNaker2 model is left out on purpose: the kernels' cycle
formulas are ARM968 instruction counts (spinla/kernels/*.py) and would be wrong for a Cortex-M4F
with a MAC array, and SpiNNaker2's production clock and power are not settled in public sources.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, fields, replace

from . import state as _st


def _p(default, source: str):
    """A machine parameter with the source (or ASSUMPTION reasoning) of its value."""
    return field(default=default, metadata={"source": source})


@dataclass(frozen=True)
class Machine:
    name: str = field(metadata={"source": "label"})
    chips: int = field(metadata={"source": "board type: SpiNN-3 4, SpiNN-5 48 per board "
                                           "(Manchester APT hardware page)"})
    boards: int = _p(1, "board count of the machine")
    app_cores_per_chip: int = _p(
        16, "spinnaker_tools include/spinnaker.h: NUM_CPUS = 18 = 1 monitor + 16 application "
            "+ 1 spare")
    clock_hz: float = _p(200e6, "spinnaker_tools tools/boot/sark.struct: 200 MHz default CPU "
                                "clock")
    dtcm_bytes: int = _p(64 * 1024, "spinnaker_tools include/spinnaker.h: 64 KB DTCM per core")
    itcm_bytes: int = _p(32 * 1024, "spinnaker_tools include/spinnaker.h: 32 KB ITCM per core")
    dtcm_reserve_bytes: int = _p(
        8 * 1024, "ASSUMPTION: DTCM kept back from tiles for the stack, the runtime's globals "
                  "and the DMA descriptors of double buffering; to be replaced by the size map "
                  "of the ARM build")
    sdram_bytes_per_chip: int = _p(
        123_469_792, "sPyNNaker PR #1241 error text: 123,469,792 of the 128 MB SDRAM are "
                     "allocatable to applications")
    sdram_bandwidth_bytes_per_s: float = _p(
        0.6e9, "ASSUMPTION (no published sustained figure found): SDRAM is clocked at 130 MHz "
               "(sark.struct); a 32-bit DDR interface at that clock peaks near 1 GB/s, of which "
               "60 % is assumed sustained; shared by the chip's cores")
    dma_setup_cycles: int = _p(
        100, "ASSUMPTION: CPU cycles to set up one DMA transfer (descriptor write, completion "
             "interrupt)")
    packet_payload_bytes: int = _p(
        4, "Furber et al. 2013 (IEEE TC 62(12)): 72-bit multicast packets carry a 32-bit "
           "payload")
    link_packets_per_s: float = _p(
        13.9e6, "SpiNNaker datasheet v2.02 (SpiNN2DataShtV202.pdf), Comms NoC: '1.0 Gb/s / "
                "4b@250MHz' per link, read as the payload rate of one inter-chip link in one "
                "direction: 1e9 / 72 bits per multicast packet with payload = 13.9e6 "
                "packets/s (ASSUMPTION: no measured per-link packet rate was found; the older "
                "bisection floor of Furber et al. 2013 gives >= 2.6e6)")
    links_per_chip: int = _p(6, "Manchester APT hardware page: 6 inter-chip links per chip")
    send_cycles_per_packet: int = _p(
        20, "ASSUMPTION (no published figure): CPU cycles to send one 72-bit multicast "
            "packet from a core: load the payload, write key and payload to the comms "
            "controller, poll its TX-full flag")
    receive_cycles_per_packet: int = _p(
        60, "ASSUMPTION (no published figure; each multicast packet raises an interrupt on "
            "SpiNNaker1): FIQ entry and exit (~12 cycles), read key and payload from the comms "
            "controller, store into a DTCM ring buffer drained to SDRAM by DMA (~48)")
    router_entries_per_chip: int = _p(
        1023, "SpiNNakerGraphFrontEnd / PACMAN on a virtual SpiNN-5 report a limit of 1023 "
              "multicast routing entries per chip (../shared/spinnaker-facts.md)")
    packet_hop_energy_j: float = _p(
        1.8e-9, "SpiNNMachine: 25 pJ per packet bit, so 1.8 nJ per 72-bit packet per link hop")
    board_idle_power_w: float = _p(
        26.84, "SpiNNMachine spinn_machine/version/version_5.py: a SpiNN-5 board, 48 chips "
               "booted, no application, 26.84 W (SpiNN-3: 3.56 W, version_3.py)")
    core_active_power_w: float = _p(
        0.034, "SpiNNMachine version_5.py: +0.034 W per active application core (806 cores "
               "active, boxed: 59.38 W)")
    host_link_bits_per_s: float = _p(
        100e6, "SpiNNaker datasheet v2.02 / APT hardware page: one 100 Mbit/s Ethernet link per "
               "board to the host; the line rate is the ceiling (SCP reads reach ~33 Mbit/s, "
               "sPyNNaker issue #79; 'fast data-in' at least 2x SDP, SpiNNFrontEndCommon PR "
               "#295)")
    barrier_cycles: int = _p(
        2000, "ASSUMPTION: cycles of the barrier ending a phase (a multicast round of 'done' "
              "packets and the start of the next phase, no host involved)")

    @property
    def cores(self) -> int:
        """Application cores (those that run kernels)."""
        return self.chips * self.app_cores_per_chip

    @property
    def chips_per_board(self) -> int:
        return max(1, self.chips // max(1, self.boards))

    @property
    def tile_budget_bytes(self) -> int:
        """DTCM a kernel tile may use."""
        return self.dtcm_bytes - self.dtcm_reserve_bytes

    @property
    def core_peak_macs_per_s(self) -> float:
        """One 16x16 MAC per cycle (SMLAxy issues every cycle on ARM9E; facts sheet)."""
        return self.clock_hz

    @property
    def peak_macs_per_s(self) -> float:
        """Peak 16-bit MAC rate of every application core together."""
        return self.cores * self.core_peak_macs_per_s

    def core_location(self, core_id: int):
        """Global application-core id -> (chip, physical core); physical core 0 is the monitor."""
        return core_id // self.app_cores_per_chip, core_id % self.app_cores_per_chip + 1

    def with_(self, **kw) -> "Machine":
        return replace(self, **kw)

    def parameters(self):
        """(name, value, source) for every parameter, in declaration order."""
        return [(f.name, getattr(self, f.name), f.metadata.get("source", ""))
                for f in fields(self)]

    def describe(self, width: int = 100) -> str:
        """A table of the parameters with their sources; derived figures at the end."""
        import textwrap
        rows = [(n, _fmt(v), s) for n, v, s in self.parameters()]
        rows += [("cores (derived)", _fmt(self.cores), "chips x app_cores_per_chip"),
                 ("tile_budget_bytes (derived)", _fmt(self.tile_budget_bytes),
                  "dtcm_bytes - dtcm_reserve_bytes"),
                 ("peak_macs_per_s (derived)", _fmt(self.peak_macs_per_s),
                  "cores x clock_hz (one 16-bit MAC per cycle)")]
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        ws = max(20, width - w0 - w1 - 4)
        out = [f"Machine {self.name!r}: {self.boards} board(s), {self.chips} chips, "
               f"{self.cores} application cores",
               f"{'parameter':<{w0}}  {'value':>{w1}}  source"]
        for n, v, s in rows:
            lines = textwrap.wrap(s, ws) or [""]
            out.append(f"{n:<{w0}}  {v:>{w1}}  {lines[0]}")
            out += [f"{'':<{w0}}  {'':>{w1}}  {ln}" for ln in lines[1:]]
        return "\n".join(out)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def spinn3() -> Machine:
    # SpiNN-3: 4 chips, 72 cores (APT hardware page); idle 3.56 W (SpiNNMachine version_3.py)
    return Machine("spinn3", chips=4, boards=1, board_idle_power_w=3.56)


def spinn5(boards: int = 1) -> Machine:
    # SpiNN-5: 48 chips, 864 cores (768 application), 12 V 6 A (APT hardware page)
    name = "spinn5" if boards == 1 else f"spinn5x{boards}"
    return Machine(name, chips=48 * boards, boards=boards)


def full_machine() -> Machine:
    # 57,600 chips, 1,036,800 cores (Furber et al. 2013): 1,200 SpiNN-5 boards
    return Machine("million", chips=57_600, boards=1_200)


MACHINES = {"spinn3": spinn3, "spinn5": spinn5, "million": full_machine}


def get(machine) -> Machine:
    """A Machine from a Machine or a name: spinn3, spinn5, spinn5xN (N boards), million."""
    if isinstance(machine, Machine):
        return machine
    if isinstance(machine, str):
        key = machine.strip().lower()
        if key in MACHINES:
            return MACHINES[key]()
        if key.startswith("spinn5x") and key[7:].isdigit() and int(key[7:]) > 0:
            return spinn5(int(key[7:]))
    raise ValueError(f"unknown machine {machine!r}; use one of spinn3, spinn5, spinn5xN "
                     f"(N boards), million, or a spinla.machine.Machine")


def current() -> Machine:
    """The machine ops are lowered for (spinn5 unless set otherwise); per thread and context
    (spinla/state.py)."""
    m = _st.get_machine()
    if m is None:
        m = spinn5()
        _st.set_machine(m)
    return m


def set_machine(machine) -> Machine:
    m = get(machine)
    _st.set_machine(m)
    return m


@contextlib.contextmanager
def use(machine):
    """Lower ops for `machine` inside the block."""
    with _st.machine_scope(get(machine)) as m:
        yield m
