"""SpiNNaker machines: every hardware figure the lowering and the cost model use, in one place,
each with its source.  A figure without a public source is a named parameter whose doc says
it is an assumption (see ../shared/spinnaker-facts.md for the sources cited here)."""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Machine:
    name: str
    chips: int
    boards: int = 1
    # spinnaker_tools include/spinnaker.h (NUM_CPUS = 18: 1 monitor, 16 application, 1 spare)
    app_cores_per_chip: int = 16
    # spinnaker_tools tools/boot/sark.struct: 200 MHz default CPU clock
    clock_hz: float = 200e6
    # spinnaker_tools include/spinnaker.h: 64 KB DTCM, 32 KB ITCM per core
    dtcm_bytes: int = 64 * 1024
    itcm_bytes: int = 32 * 1024
    # ASSUMPTION: DTCM kept back from tiles for the stack, the runtime's globals and the DMA
    # descriptors of double buffering; to be replaced by the size map of the ARM build.
    dtcm_reserve_bytes: int = 8 * 1024
    # sPyNNaker PR #1241 error text: 123,469,792 bytes of the 128 MB SDRAM are allocatable
    sdram_bytes_per_chip: int = 123_469_792
    # ASSUMPTION (facts sheet marks it unknown): sustained SDRAM bandwidth one chip's DMA
    # engine delivers, shared by its cores.  SDRAM is clocked at 130 MHz (sark.struct); a
    # 32-bit DDR interface at that clock peaks near 1 GB/s, of which we assume 60 %.
    sdram_bandwidth_bytes_per_s: float = 0.6e9
    # ASSUMPTION: fixed cost of setting up one DMA transfer (descriptor write, interrupt).
    dma_setup_cycles: int = 100
    # Furber et al. 2013: 72-bit packets (key + 32-bit payload) carry 4 data bytes each.
    packet_payload_bytes: int = 4
    # ASSUMPTION: packets one chip's router injects/accepts per second per link direction.
    # Furber et al. 2013 give > 5e9 packets/s bisection for the full machine (57,600 chips);
    # we take 1e7 packets/s per link as a conservative per-link figure.
    link_packets_per_s: float = 1e7
    links_per_chip: int = 6  # Manchester APT hardware page
    # Painkras et al. 2013 (IEEE JSSC): "a 1-W 18-core system-on-chip" at full load.
    chip_active_power_w: float = 1.0
    # ASSUMPTION: a chip's power with every core idle (clocks running, SDRAM refreshed);
    # 0.36 W chosen as 36 % of the active figure pending a board measurement.
    chip_idle_power_w: float = 0.36
    # ASSUMPTION: board-level power outside the chips (FPGAs, regulators, BMP, fans) per
    # board.  SpiNN-5's supply is 12 V 6 A (72 W max, APT hardware page) for 48 chips; we
    # attribute 72 W - 48 x 1 W = 24 W to the board.  SpiNN-3: 5 V 1 A = 5 W for 4 chips -> 1 W.
    board_overhead_w: float = 24.0
    # ASSUMPTION: cycles a barrier between two phases costs (a multicast round of "done"
    # packets and the host-free start of the next phase).
    barrier_cycles: int = 2000

    @property
    def cores(self) -> int:
        """Application cores (those that run kernels)."""
        return self.chips * self.app_cores_per_chip

    @property
    def tile_budget_bytes(self) -> int:
        """DTCM a kernel tile may use."""
        return self.dtcm_bytes - self.dtcm_reserve_bytes

    @property
    def peak_macs_per_s(self) -> float:
        """One 16x16 MAC per cycle per core (SMLAxy issues every cycle; facts sheet)."""
        return self.cores * self.clock_hz

    def core_location(self, core_id: int):
        """Global application-core id -> (chip, physical core); physical core 0 is the monitor."""
        return core_id // self.app_cores_per_chip, core_id % self.app_cores_per_chip + 1

    def with_(self, **kw) -> "Machine":
        return replace(self, **kw)


def spinn3() -> Machine:
    # SpiNN-3: 4 chips, 72 cores, 5 V 1 A supply (APT hardware page)
    return Machine("spinn3", chips=4, boards=1, board_overhead_w=1.0)


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


_state = threading.local()


def current() -> Machine:
    """The machine ops are lowered for (spinn5 unless set otherwise)."""
    m = getattr(_state, "machine", None)
    if m is None:
        m = _state.machine = spinn5()
    return m


def set_machine(machine) -> Machine:
    _state.machine = get(machine)
    return _state.machine


@contextlib.contextmanager
def use(machine):
    """Lower ops for `machine` inside the block."""
    prev = getattr(_state, "machine", None)
    _state.machine = get(machine)
    try:
        yield _state.machine
    finally:
        _state.machine = prev
