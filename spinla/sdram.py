"""Per-chip SDRAM for the checked emulator: each chip's own image of every buffer, and the
packets of the per-core streams replayed between them.

On the host every chip shares one copy of each buffer, so a placement whose streams forget to
send bytes a remote tile reads still gives right answers.  Here (spinla/checked.py drives it)
each chip has its own image of each buffer of the stream's buffer table, poisoned except:

* the bytes the Placement's Home of a buffer no Call writes puts on that chip (the host loads
  them there; a replicated buffer: all of it on each chip of its Home);
* the bytes a tile running on the chip writes (its declared DMA writes, from its DTCM);
* the bytes a packet record of the streams brings to the chip.

Packets come from the streams' own records (spinla.streams.build, the Phase objects that
serialise() packs), not from the homes again, so the replay tests the stream builder.  A
send and the recv records of its key range form one transfer: bytes [offset, offset + bytes)
of the buffer copied from the sending chip's image into the image of each receiving core's
chip.  A send in a monitor phase (no kernel) serves SDRAM: its bytes land just before the
phase that records the recv runs (tiles run in tile order, which is each core's phase
order); a send in a tile's phase carries what the tile wrote, after the Call's tiles.
Records that do not pair up (a recv whose key nobody sends, a send nobody expects, a
point-to-point send whose dst is not the receiver's chip, fields that differ between the two
sides) are errors of the Call.

ASSUMPTION (the stream format's): a packet is in the receiving chip's SDRAM for every later
phase of that chip, on any core.  The builder records a multicast's recv once per chip (the
first tile there that reads it), so other cores of the chip read those bytes with nothing in
their streams ordering them after that recv; the tile order here hides this.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from . import abi


@dataclass
class Transfers:
    """Packet deliveries of one Call between one pair of chips for one buffer: byte ranges
    [offsets, offsets + sizes)."""

    buffer: int
    src: int
    dst: int
    offsets: list = field(default_factory=list)
    sizes: list = field(default_factory=list)
    _index: np.ndarray | None = field(default=None, repr=False)

    def index(self) -> np.ndarray:
        """The byte positions of the ranges (made once: a Program is replayed every run)."""
        if self._index is None:
            self._index = ranges_index(self.offsets, self.sizes)
        return self._index


@dataclass
class CallReplay:
    """What the streams say one Call does: its tiles (tile, chip, (x, y, core), Phase), the
    packet deliveries before each tile runs (pre: tile -> [Transfers], -1: before all) and
    after the tiles (post); error: the first record that does not pair up."""

    tiles: list = field(default_factory=list)
    pre: dict = field(default_factory=dict)
    post: list = field(default_factory=list)
    error: str | None = None


@dataclass
class Replay:
    """A placed Program as its streams describe it (built once per Program, machine and
    strategy; spinla/checked.py keeps it beside the Program)."""

    placement: object
    table: object                                  # streams.BufferTable
    calls: list                                    # CallReplay per Call
    chip_of: dict                                  # (x, y) -> chip
    initial: dict                                  # buffer index -> {chip: [(start, stop)]}
    base: dict                                     # buffer index -> its Buffer
    outputs: dict = field(default_factory=dict)    # buffer id -> (index, byte offset)


def _pk(pk) -> str:
    """A packet record in words."""
    return (f"packets key {pk['key']}..{pk['key'] + pk['npackets'] - 1} (buffer "
            f"{pk['buffer']} bytes [{pk['offset']}, {pk['offset'] + pk['bytes']}))")


# The spl_packet_t fields the replay reads (a copy of bytes [offset, offset + bytes) of a
# buffer between chips); a record with any other field of spinla.h's struct set is a kind of
# transfer it does not know, and fails.
_FIELDS = ("key", "npackets", "bytes", "buffer", "offset", "src_x", "src_y", "dst_x", "dst_y",
           "src_core")
_F = {f: k for k, f in enumerate(_FIELDS)}


def _records(cores, none, fail):
    """Every send and recv record of the streams as int64 rows: the record's fields, then the
    Call, the holding core's x, y, core, whether its phase runs a tile and which (else -1)."""
    from operator import itemgetter
    get = itemgetter(*_FIELDS)
    other = [f for f in abi.struct("spl_packet_t").numpy_dtype().names if f not in _F]
    out = {"send": ([], []), "recv": ([], [])}
    for (x, y, core), phases in cores.items():
        for ph in phases:
            tile = ph.tile if ph.kernel != none else -1
            extra = (ph.call, x, y, core, int(ph.kernel != none), tile)
            for side in ("send", "recv"):
                recs = getattr(ph, side)
                if recs:
                    rows, ext = out[side]
                    rows.extend(map(get, recs))
                    ext.extend([extra] * len(recs))
                    for r in recs if other else ():
                        unknown = {f: r[f] for f in other if r.get(f)}
                        if unknown:
                            fail(ph.call, f"core {(x, y, core)} {side}s {_pk(r)} with "
                                          f"{unknown}: the replay knows only copies")

    def table(rows, width):
        return np.fromiter(chain.from_iterable(rows), np.int64,
                           len(rows) * width).reshape(-1, width)
    return {side: (table(rows, len(_FIELDS)), table(ext, 6))
            for side, (rows, ext) in out.items()}


def _row(rec) -> dict:
    return dict(zip(_FIELDS, rec.tolist()))


def build(program, machine, strategy=None) -> Replay:
    """Place `program` (strategy None: place()'s default, which `spinla map` also shows),
    build its streams and pair their packet records, Call by Call."""
    from . import streams
    from .place import chip_xy, place
    pl = place(program, machine) if strategy is None else place(program, machine, strategy)
    cores, bt = streams.build(program, machine, pl)
    none = abi.enum("SPL_KERNEL_")["none"]
    mc = abi.const("SPL_PACKET_MULTICAST")
    chip_of = {chip_xy(machine, c): c for c in range(machine.chips)}
    calls = [CallReplay() for _ in program.calls]

    def fail(i, msg):
        if calls[int(i)].error is None:
            calls[int(i)].error = msg

    for xyc, phases in cores.items():
        if xyc[:2] not in chip_of:
            raise ValueError(f"a stream names chip {xyc[:2]}, which {machine.name} lacks")
        for ph in phases:
            if ph.kernel != none:
                calls[ph.call].tiles.append((ph.tile, chip_of[xyc[:2]], xyc, ph))
    recs = _records(cores, none, fail)
    S, Se = recs["send"]
    R, Re = recs["recv"]
    F = _F
    # A send names its own core as the source, and each key range is sent once.
    bad = np.flatnonzero((S[:, [F["src_x"], F["src_y"], F["src_core"]]] != Se[:, 1:4]).any(1))
    for k in bad:
        fail(Se[k, 0], f"core {tuple(Se[k, 1:4].tolist())} sends {_pk(_row(S[k]))} naming "
                       f"core {tuple(S[k, [F['src_x'], F['src_y'], F['src_core']]].tolist())} "
                       f"as its source")
    order = np.argsort(S[:, F["key"]], kind="stable")
    S, Se = S[order], Se[order]
    dup = np.flatnonzero(np.diff(S[:, F["key"]]) == 0) + 1
    for k in dup:
        fail(Se[k, 0], f"core {tuple(Se[k, 1:4].tolist())} sends {_pk(_row(S[k]))}, a key "
                       f"range core {tuple(Se[k - 1, 1:4].tolist())} sends too")
    # Each recv pairs with the send of its key: same Call and fields, addressed to its chip.
    at = np.minimum(np.searchsorted(S[:, F["key"]], R[:, F["key"]]), max(len(S) - 1, 0))
    ok = np.zeros(len(R), bool)
    if len(S):
        found = S[at, F["key"]] == R[:, F["key"]]
        same = found & (Se[at, 0] == Re[:, 0]) & (
            S[at][:, [F["npackets"], F["bytes"], F["buffer"], F["offset"]]]
            == R[:, [F["npackets"], F["bytes"], F["buffer"], F["offset"]]]).all(1)
        own = (R[:, [F["dst_x"], F["dst_y"]]] == Re[:, 1:3]).all(1)
        sdst = S[at][:, [F["dst_x"], F["dst_y"]]]
        to = (sdst == mc).all(1) | (sdst == Re[:, 1:3]).all(1)
        ok = same & own & to
    else:
        found = same = own = to = ok
    for k in np.flatnonzero(~ok):
        where = f"core {tuple(Re[k, 1:4].tolist())}"
        pk = _row(R[k])
        if not found[k]:
            fail(Re[k, 0], f"{where} expects {_pk(pk)}, which no core sends")
            continue
        sp, sx = _row(S[at[k]]), tuple(Se[at[k], 1:4].tolist())
        if not same[k]:
            fail(Re[k, 0], f"{where} expects {_pk(pk)} in call {Re[k, 0]}; core {sx} sends "
                           f"that key as {_pk(sp)} in call {Se[at[k], 0]}")
        elif not own[k]:
            fail(Re[k, 0], f"{where} expects {_pk(pk)} addressed to chip ({pk['dst_x']}, "
                           f"{pk['dst_y']}), not its own")
        else:
            fail(Re[k, 0], f"core {sx} sends {_pk(sp)} to chip ({sp['dst_x']}, "
                           f"{sp['dst_y']}); {where} expects them")
    used = np.zeros(len(S), bool)
    used[at[ok]] = True
    for k in np.flatnonzero(~used):
        sp = _row(S[k])
        dst = ("any chip" if (sp["dst_x"], sp["dst_y"]) == (mc, mc)
               else f"chip ({sp['dst_x']}, {sp['dst_y']})")
        fail(Se[k, 0], f"core {tuple(Se[k, 1:4].tolist())} sends {_pk(sp)} to {dst}, but no "
                       f"core there expects them")
    # Deliveries: each paired recv copies its bytes from the sender's chip to its own: served
    # from SDRAM (a monitor's send), just before the receiving phase runs (a monitor's recv:
    # before the Call's tiles); carrying a tile's writes, after the Call's tiles.  Grouped per
    # (Call, after the tiles?, receiving tile, buffer, source chip, destination chip).
    lut = np.full((max(x for x, _ in chip_of) + 1, max(y for _, y in chip_of) + 1), -1, np.int64)
    for (x, y), c in chip_of.items():
        lut[x, y] = c
    k = np.flatnonzero(ok)
    src = lut[Se[at[k], 1], Se[at[k], 2]]
    dst = lut[Re[k, 1], Re[k, 2]]
    k, src, dst = k[src != dst], src[src != dst], dst[src != dst]
    if len(k):
        post = Se[at[k], 4]
        grp = np.stack([Re[k, 0], post, np.where(post == 1, -1, Re[k, 5]), R[k, F["buffer"]],
                        src, dst], 1)
        order = np.lexsort(grp.T[::-1])
        grp, k = grp[order], k[order]
        cut = np.flatnonzero((np.diff(grp, axis=0) != 0).any(1)) + 1
        for a, z in zip(np.r_[0, cut].tolist(), np.r_[cut, len(k)].tolist()):
            i, post, tile, b, s_, d_ = grp[a].tolist()
            g = Transfers(b, s_, d_, R[k[a:z], F["offset"]], R[k[a:z], F["bytes"]])
            (calls[i].post if post else calls[i].pre.setdefault(tile, [])).append(g)
    # Buffers no Call writes start where their Homes put them (a view's Home in its base).
    base = {}
    for b in program.buffers():
        if b.id not in bt.alias:
            base[bt.index[b.id]] = b
    written = {o.id for c in program.calls if c.kernel != "view" for o in c.outputs}
    initial = {}
    homes = dict(pl.homes)
    for hin in pl.homes_in:
        for k, h in hin.items():
            homes.setdefault(k, h)
    for bid, h in homes.items():
        if h is None or (bid not in bt.index and bid not in bt.alias):
            continue
        bi, off = bt.resolve(bid, 0)
        if bi not in base or base[bi].id in written:
            continue
        parts = initial.setdefault(bi, {})
        if h.replicated:
            size = int(h.stops[0]) if len(h.stops) else 0
            for c in h.chips.tolist():
                parts.setdefault(c, []).append((off, off + size))
        else:
            for c, s, e in zip(h.chips.tolist(), h.starts.tolist(), h.stops.tolist()):
                parts.setdefault(c, []).append((off + s, off + e))
    outputs = {o.id: bt.resolve(o.id, 0) for c in program.calls if c.kernel != "view"
               for o in c.outputs}
    return Replay(pl, bt, calls, chip_of, initial, base, outputs)


# --- the images -----------------------------------------------------------------------------

# Poison: a fixed pseudo-random int16 pattern (varied values change any arithmetic that reads
# them, unlike a constant a max or a zero weight could hide).
_POISON_SEED = 0x5EED
_PATTERNS: dict = {}


def poison(n: int) -> np.ndarray:
    """n int16 elements of poison (read-only, shared)."""
    p = _PATTERNS.get(n)
    if p is None:
        if len(_PATTERNS) > 64:
            _PATTERNS.clear()
        p = np.random.default_rng(_POISON_SEED + n).integers(-32768, 32768, n, dtype=np.int16)
        p.flags.writeable = False
        _PATTERNS[n] = p
    return p


def poison_bytes(n: int) -> np.ndarray:
    return poison((n + 1) // 2).view(np.uint8)[:n]


class Images:
    """Each chip's image of each buffer (uint8), made on first use: poison, and for a buffer
    no Call writes the bytes its Home puts on the chip, from `truth` (buffer index -> the
    host's bytes)."""

    def __init__(self, replay: Replay, truth: dict):
        self.replay = replay
        self.truth = truth
        self.images = {}

    def get(self, b: int, chip: int) -> np.ndarray:
        img = self.images.get((b, chip))
        if img is None:
            img = poison_bytes(self.replay.table.entries[b][1]).copy()
            src = self.truth.get(b)
            if src is not None:
                for s, e in self.replay.initial.get(b, {}).get(chip, ()):
                    img[s:e] = src[s:e]
            self.images[(b, chip)] = img
        return img

    def deliver(self, transfers) -> None:
        """Copy each group's byte ranges from its source chip's image to its destination's."""
        for g in transfers:
            src, dst = self.get(g.buffer, g.src), self.get(g.buffer, g.dst)
            idx = g.index()
            dst[idx] = src[idx]


def ranges_index(offsets, sizes) -> np.ndarray:
    """The byte positions of ranges [offsets, offsets + sizes), concatenated."""
    o = np.asarray(offsets, np.int64)
    n = np.asarray(sizes, np.int64)
    if len(o) == 1:
        return np.arange(o[0], o[0] + n[0])
    starts = np.cumsum(n) - n
    return np.repeat(o - starts, n) + np.arange(int(n.sum()))


def inside(size: int, offset: int, nrows: int, row_bytes: int, stride: int) -> bool:
    """Whether the rows of a transfer lie inside a buffer of `size` bytes (an empty one
    does, wherever it points)."""
    if nrows <= 0 or row_bytes <= 0:
        return True
    lo = offset + min(0, (nrows - 1) * stride)
    hi = offset + max(0, (nrows - 1) * stride) + row_bytes
    return lo >= 0 and hi <= size


def rows(buf: np.ndarray, offset: int, nrows: int, row_bytes: int, stride: int):
    """The rows of a transfer as a (nrows, row_bytes) view of a contiguous uint8 buffer
    (stride may be 0 or negative), or None where they do not lie inside it."""
    if not inside(buf.size, offset, nrows, row_bytes, stride):
        return None
    if nrows <= 0 or row_bytes <= 0:
        return np.zeros((max(nrows, 0), max(row_bytes, 0)), np.uint8)
    lo = offset + min(0, (nrows - 1) * stride)
    if nrows == 1 or stride == row_bytes:
        return buf[lo:lo + nrows * row_bytes].reshape(nrows, row_bytes)
    v = np.ndarray((nrows, row_bytes), np.uint8, buffer=buf, offset=lo,
                   strides=(abs(stride), 1))
    return v[::-1] if stride < 0 else v
