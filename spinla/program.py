"""The Program: the one description of work that the emulator runs, the cost model prices and
the SpiNNaker backend will load onto a board.

A Program is a list of Calls in execution order.  Each Call is one kernel from spinla_c/
applied to whole SDRAM Buffers, split into tiles that each fit one core's DTCM; every tile is
placed on a (chip, core) and carries what it moves: DMA bytes from and to SDRAM and multicast
packets to other chips.  Consecutive Calls are separated by a barrier (a phase), which is how
the board runs them: all tiles of call i finish before call i+1 starts.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .beside import Beside
from .fixed import Format

_ids = itertools.count()

# Run counts of Programs, beside them rather than in them: how often this host ran a
# Program is the host's business, not the board's (spinla/beside.py).
_RUNS = Beside()


def count_run(program) -> int:
    """Add one run of `program` (a backend calls this after running it); returns the count."""
    n = _RUNS.get(program, lambda: [0])
    n[0] += 1
    return n[0]


class Buffer:
    """A q15 array in SDRAM.  `data` is the host copy the emulator works on: a NumPy int16
    array for concrete buffers, None for placeholders of a traced Program."""

    __slots__ = ("id", "shape", "fmt", "data", "name", "origin", "__weakref__")

    def __init__(self, shape, fmt: Format, data=None, name: str | None = None):
        self.id = next(_ids)
        self.shape = tuple(map(int, shape))
        self.fmt = fmt
        self.data = data
        self.name = name
        self.origin = None  # ("T", buffer) when this is the 2-d transpose of buffer

    @property
    def size(self) -> int:
        return math.prod(self.shape)     # Python ints: exact, and 20x cheaper than np.prod

    @property
    def nbytes(self) -> int:
        return 2 * self.size

    def __repr__(self):
        return f"Buffer#{self.id}{list(self.shape)}:{self.fmt.name}"


@dataclass
class Call:
    """One kernel over whole buffers, tiled onto cores.

    tiles: int32 array (ntiles, nfields) whose fields the kernel family defines;
    cores: int32 array (ntiles,) of global application-core ids (see Machine.core_location);
    the per-tile cost annotations are arrays of length ntiles.
    """

    kernel: str
    op: str
    inputs: tuple
    outputs: tuple
    params: dict
    tiles: np.ndarray
    cores: np.ndarray
    macs: np.ndarray          # multiply-accumulates per tile
    elems: np.ndarray         # other per-element work per tile (kernel-specific unit)
    dma_in: np.ndarray        # bytes read from SDRAM per tile
    dma_out: np.ndarray       # bytes written to SDRAM per tile
    dtcm: np.ndarray          # DTCM bytes a tile needs
    seed: int = 0             # base seed of stochastic rounding; mixed with the run counter
    stochastic: bool = False
    packets: np.ndarray | None = None  # multicast packets a tile sends to other chips

    @property
    def ntiles(self) -> int:
        return int(self.tiles.shape[0])

    def __repr__(self):
        ins = ", ".join(map(repr, self.inputs))
        outs = ", ".join(map(repr, self.outputs))
        return f"{self.op}: {self.kernel}({ins}) -> {outs} [{self.ntiles} tiles]"


@dataclass
class Program:
    """Calls in order, the placeholder buffers bound at run time, and the results."""

    calls: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    machine: object = None
    name: str = "program"
    # The inputs that hold one row per sample of the batch (a training step's images,
    # targets and labels): data-parallel placement splits these, and only these, into the
    # replicas' batch slices (spinla.place).  Empty: the Program states no batch.
    batch_inputs: list = field(default_factory=list)
    # The inputs loaded onto every chip once, before the Program runs, and kept there across
    # runs (a training set resident in SDRAM, the epoch's order of its rows; spinla.jit's
    # resident_args): spinla.place replicates them on every chip.
    resident_inputs: list = field(default_factory=list)

    @property
    def runs(self) -> int:
        """How many times a backend has run this Program (kept beside it: count_run)."""
        n = _RUNS.peek(self)
        return 0 if n is None else n[0]

    def buffers(self):
        """Every buffer the Program touches, each once, in first-use order."""
        seen, out = set(), []
        for c in self.calls:
            for b in (*c.inputs, *c.outputs):
                if b.id not in seen:
                    seen.add(b.id)
                    out.append(b)
        return out

    def last_use(self):
        """Index of the last call reading each buffer (the emulator frees temporaries then)."""
        last = {}
        for i, c in enumerate(self.calls):
            for b in c.inputs:
                last[b.id] = i
        return last

    def streams(self, machine=None, placement=None) -> dict:
        """{(chip_x, chip_y, core): bytes}: what every used core of `machine` (default: the
        Program's, else the current one) runs, in spinla_c/spinla.h's stream layout, under
        `placement` (default: spinla.place(self, machine)).  See spinla/streams.py."""
        from . import streams
        from .machine import current, get
        m = get(machine) if machine is not None else (self.machine or current())
        return streams.streams(self, get(m), placement)

    def summary(self) -> str:
        lines = [f"Program {self.name!r}: {len(self.calls)} calls, "
                 f"{sum(c.ntiles for c in self.calls)} tiles"]
        lines += [f"  {i:3d} {c!r}" for i, c in enumerate(self.calls)]
        return "\n".join(lines)
