"""Per-core streams: a placed Program serialised as what each core of the board runs.

For every used core, its phases in order: each tile it runs (kernel id, tile record, DMA
descriptors into DTCM slots, multicast packets to send and to expect) and the barrier that
ends the tile's Call.  The byte layout is spinla_c/spinla.h's (spl_stream_header_t,
spl_phase_t, spl_dma_t, spl_packet_t, SPL_KERNEL_*), read through spinla.abi: nothing here
restates it.

Where data lives comes from the Placement (spinla.place): a tile's DMA reads bytes of its
chip's SDRAM; bytes homed on another chip arrive first as multicast packets, which that
chip's monitor core (physical core 0) sends (ASSUMPTION: the monitor serves its chip's SDRAM
to other chips, so application cores only compute); a tile's writes homed elsewhere go out as
packets the home chip's monitor receives.  Every transfer is recorded twice, in the sender's
stream (send) and the receiving chip's monitor's (recv), under the same key range: one send
per multicast (source range and Call), one recv per receiving chip.  A record is a strided
descriptor like spl_dma_t (rows of row_bytes, stride apart), so a transposed read of remote
rows is one record, not one per row; its packets are ceil(rows * row_bytes / payload).

Ordering on a chip: the monitor counts its completed recvs (spinla.h: the chip's arrival
counter), reads' recvs before writes' in each of its phases, and every tile that reads
packet-delivered bytes waits (spl_phase_t.wait_arrivals) until the counter covers every recv
whose bytes it reads, whichever core it runs on.

Buffers are named by index in the buffer table: Program.buffers() order, then the Calls'
constant tables (a gather's row indices).  A view's output is an alias (its base buffer and
byte offset), so descriptors always name the bytes where they live.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import abi
from .kernels import dma as kdma


@dataclass
class Phase:
    call: int
    kernel: int
    tile: int
    fields: np.ndarray                       # the tile record (int32)
    dmas: list = field(default_factory=list)  # spl_dma_t field dicts
    send: list = field(default_factory=list)  # spl_packet_t field dicts
    recv: list = field(default_factory=list)
    dtcm: int = 0
    wait: int = 0                            # wait_arrivals: the chip's arrival count it needs


@dataclass
class BufferTable:
    """Index of every SDRAM buffer a stream names; views resolve to (base index, offset)."""

    index: dict = field(default_factory=dict)      # buffer id or ("const", call, name) -> i
    alias: dict = field(default_factory=dict)      # view buffer id -> (base id, byte offset)
    entries: list = field(default_factory=list)    # (name, nbytes) per index

    def add(self, key, name, nbytes):
        if key not in self.index:
            self.index[key] = len(self.entries)
            self.entries.append((name, int(nbytes)))
        return self.index[key]

    def resolve(self, buf_id, offset):
        while buf_id in self.alias:
            buf_id, off = self.alias[buf_id]
            offset += off
        return self.index[buf_id], offset


def _buffer_table(program) -> BufferTable:
    bt = BufferTable()
    for c in program.calls:
        if c.kernel == "view":
            base = c.inputs[0]
            bt.alias[c.outputs[0].id] = (base.id, 2 * int(c.params["offset"]))
    for b in program.buffers():
        if b.id not in bt.alias:
            bt.add(b.id, b.name or repr(b), b.nbytes)
    for i, c in enumerate(program.calls):
        for k, v in c.params.items():
            if k == "rows" and c.kernel == "gather_rows_q15":
                bt.add(("const", i, k), f"call{i}.{k}", 4 * len(v))
    return bt


def _home_parts(home, chip):
    """(chips, starts, stops) of a Home as seen from `chip`: a replicated buffer is local if
    `chip` holds a copy, else served by its first chip."""
    if home is None:
        return None
    if home.replicated:
        src = chip if chip in set(home.chips.tolist()) else int(home.chips[0])
        return np.asarray([src]), np.asarray([0]), np.asarray([home.nbytes()])
    return home.chips, home.starts, home.stops


def _remote_records(d, parts, chip):
    """Bytes of transfer d that other chips hold, as strided records (lists of source chips,
    starts in the operand's bytes, rows, row_bytes, strides; _strided), from the rows' ranges
    intersected with the home's parts (sorted, disjoint)."""
    if parts is None:
        return ()
    chips, starts, stops = (np.asarray(v, np.int64) for v in parts)
    if len(chips) == 1 and chips[0] == chip:
        return ()
    if d.rows > 1 and d.stride == d.row_bytes:          # touching rows: one range
        rs = np.asarray([d.offset], np.int64)
        re_ = rs + d.rows * d.row_bytes
    else:
        rs, re_ = d.byte_ranges()
    order = np.argsort(starts, kind="stable")
    chips, starts, stops = chips[order], starts[order], stops[order]
    # Parts overlapping each row: those starting before its end and ending after its start.
    first = np.searchsorted(stops, rs, side="right")
    last = np.searchsorted(starts, re_, side="left")
    cnt = np.maximum(last - first, 0)
    if not cnt.any():
        return ()
    if len(rs) == 1:
        row, part = np.zeros(int(cnt[0]), np.int64), np.arange(first[0], last[0])
    else:
        row = np.repeat(np.arange(len(rs)), cnt)
        before = np.cumsum(cnt) - cnt               # each row's first pair
        part = np.repeat(first, cnt) + np.arange(len(row)) - np.repeat(before, cnt)
    lo, hi = np.maximum(rs[row], starts[part]), np.minimum(re_[row], stops[part])
    c = chips[part]
    keep = (hi > lo) & (c != chip)
    cs = c[keep].tolist()
    if len(rs) == 1 and len(set(cs)) == len(cs):       # one range, a piece per chip
        size = (hi[keep] - lo[keep]).tolist()
        return cs, lo[keep].tolist(), [1] * len(size), size, size
    return _strided(c[keep], lo[keep], hi[keep])


def _strided(c, lo, hi):
    """Byte ranges [lo, hi) held by chips c (disjoint per chip: as _remote_records finds
    them) as strided records (chips, starts, rows, row_bytes, strides; lists): per chip
    sorted, touching ones joined, then each run of equal-length ranges equally far apart one
    record (a run breaks where a range's length or its distance from the one before changes;
    the breaks are found at once, not greedily, so a run may start one range later than it
    could)."""
    if len(lo) <= 1:
        size = (hi - lo).tolist()
        return c.tolist(), lo.tolist(), [1] * len(lo), size, size
    order = np.lexsort((lo, c))
    c, lo, hi = c[order], lo[order], hi[order]
    new = np.ones(len(lo), bool)
    new[1:] = (lo[1:] > hi[:-1]) | (c[1:] != c[:-1])
    first = np.flatnonzero(new)
    last = np.empty_like(first)
    last[:-1], last[-1] = first[1:] - 1, len(new) - 1
    c, lo, hi = c[first], lo[first], hi[last]
    n, size = len(lo), hi - lo
    step = np.zeros_like(lo)
    step[:-1] = lo[1:] - lo[:-1]
    cont = np.zeros(n, bool)
    cont[1:] = (size[1:] == size[:-1]) & (c[1:] == c[:-1])
    # Range k extends the run of k - 1 if it is as long and as far from it as k - 1 is from
    # k - 2, or if k - 1 starts a run (its length or chip differs from k - 2's).
    cont[2:] &= (step[1:-1] == step[:-2]) | (size[1:-1] != size[:-2]) | (c[1:-1] != c[:-2])
    starts = np.flatnonzero(~cont)
    rows = np.diff(starts, append=n)
    return (c[starts].tolist(), lo[starts].tolist(), rows.tolist(), size[starts].tolist(),
            np.where(rows > 1, step[starts], size[starts]).tolist())


def dma_dir(d) -> int:
    """spinla.h's SPL_DMA_* of a planned transfer."""
    if d.dir == kdma.WRITE:
        return abi.const("SPL_DMA_WRITE")
    return abi.const("SPL_DMA_READ_INDEXED" if d.indexed else "SPL_DMA_READ")


def build(program, machine, placement=None):
    """{(chip_x, chip_y, physical core): [Phase, ...]} and the buffer table of a placed
    Program (placement: spinla.place.place(program, machine) when None)."""
    from .place import chip_xy as _xy, place
    xy_cache = {}

    def chip_xy(machine, chip):
        v = xy_cache.get(chip)
        if v is None:
            v = xy_cache[chip] = _xy(machine, chip)
        return v
    if placement is None:
        placement = place(program, machine)
    kid = abi.enum("SPL_KERNEL_")
    bt = _buffer_table(program)
    payload = machine.packet_payload_bytes
    mc = abi.const("SPL_PACKET_MULTICAST")
    cores: dict = {}
    key = 0
    needs = []          # (tile Phase, the recv records of its chip whose bytes it reads)
    reads = set()       # ids of recv records of reads (a monitor lists them first)

    def phases_of(xy_core):
        return cores.setdefault(xy_core, [])

    monitors = {}

    def monitor_phase(chip, i):
        """The monitor's phase of call i on `chip` (created on first use)."""
        ph = monitors.get((chip, i))
        if ph is None:
            x, y = chip_xy(machine, chip)
            ph = monitors[(chip, i)] = Phase(i, kid["none"], 0, np.zeros(0, np.int32))
            phases_of((x, y, 0)).append(ph)
        return ph

    for i, call in enumerate(program.calls):
        if call.kernel == "view":
            continue
        cp = placement.calls[i]
        multicast, delivered = {}, {}      # (source chip, range) -> send; -> {chip: recv}
        homes_in = placement.homes_in[i] if i < len(placement.homes_in) else {}
        # Mode 'local': each copy chip runs every tile itself (its outputs' other copies
        # are written by their own chips, not sent).
        local = set() if cp.copies is None else {int(c) for c in cp.copies}
        for t, core in ((t, int(cores[t])) for _, cores in cp.copy_cores(machine)
                        for t in range(call.ntiles)):
            chip, pcore = machine.core_location(core)
            x, y = chip_xy(machine, chip)
            plan = kdma.plan(call, t)
            ph = Phase(i, kid[call.kernel], t, np.asarray(call.tiles[t], np.int32),
                       dtcm=plan.dtcm)
            slot, need = 0, {}
            for d in plan.dmas:
                if isinstance(d.operand, str):
                    # A constant table of the Call: loaded with the program onto every chip
                    # that runs the Call (ASSUMPTION), so never read across a link.
                    bi, off, home = bt.index[("const", i, d.operand)], d.offset, None
                else:
                    buf = (call.inputs if d.dir == kdma.READ else call.outputs)[d.operand]
                    bi, off = bt.resolve(buf.id, d.offset)
                    home = (homes_in.get(buf.id) if d.dir == kdma.READ else None) \
                        or placement.homes.get(buf.id)
                ph.dmas.append(dict(buffer=bi, dir=dma_dir(d), offset=off, rows=d.rows,
                                    row_bytes=d.row_bytes, stride=d.stride, slot=slot,
                                    dtcm_stride=max(d.dtcm_stride, d.row_bytes),
                                    index_slot=max(0, d.index_slot)))
                slot += d.dtcm_bytes
                if d.indexed:
                    # Rows known only at run time: whatever of the operand the chip does not
                    # hold must come before (the cost model prices the same reads).
                    d = kdma.block(kdma.READ, d.operand, 0, buf.nbytes)
                if d.dir == kdma.WRITE and home is not None and home.replicated:
                    # A replicated output (an all-gather to every replica): the tile's rows
                    # go to each other copy as one multicast, every copy's monitor
                    # receiving it under the same keys.
                    copies = [c for c in home.chips.tolist() if c != chip and c not in local]
                    rs, re_ = d.byte_ranges()
                    for _, s, n, rb, st in (zip(*_strided(np.zeros(len(rs), np.int64), rs,
                                                          re_)) if copies else ()):
                        npk = math.ceil(n * rb / payload)
                        sent = dict(npackets=npk, buffer=bi, offset=off + s - d.offset, rows=n,
                                    row_bytes=rb, stride=st, key=key, src_x=x, src_y=y,
                                    dst_x=mc, dst_y=mc, src_core=pcore)
                        key += npk
                        ph.send.append(sent)
                        for c in copies:
                            cx, cy = chip_xy(machine, c)
                            monitor_phase(c, i).recv.append(dict(sent, dst_x=cx, dst_y=cy))
                    continue
                for other, s, n, rb, st in zip(*_remote_records(d, _home_parts(home, chip),
                                                               chip)):
                    ox, oy = chip_xy(machine, other)
                    npk = math.ceil(n * rb / payload)
                    pk = dict(npackets=npk, buffer=bi, offset=off + s - d.offset, rows=n,
                              row_bytes=rb, stride=st)
                    if d.dir == kdma.READ:
                        # One multicast per source range and Call, one recv of it per
                        # chip, by the chip's monitor; each reading tile waits for it.
                        mkey = (other, bi, pk["offset"], n, rb, st)
                        sent = multicast.get(mkey)
                        if sent is None:
                            sent = multicast[mkey] = dict(pk, key=key, src_x=ox, src_y=oy,
                                                          dst_x=mc, dst_y=mc, src_core=0)
                            key += npk
                            monitor_phase(other, i).send.append(sent)
                        got = delivered.setdefault(mkey, {})
                        rec = got.get((x, y))
                        if rec is None:
                            rec = got[(x, y)] = dict(sent, dst_x=x, dst_y=y)
                            reads.add(id(rec))
                            monitor_phase(chip, i).recv.append(rec)
                        need[id(rec)] = rec
                    else:
                        pk["key"] = key
                        key += npk
                        pk.update(src_x=x, src_y=y, dst_x=ox, dst_y=oy, src_core=pcore)
                        ph.send.append(pk)
                        monitor_phase(other, i).recv.append(pk)
            if need:
                needs.append((ph, list(need.values())))
            phases_of((x, y, pcore)).append(ph)
    _order_arrivals(cores, needs, reads)
    return cores, bt


def _order_arrivals(cores, needs, reads):
    """Each monitor's recvs, reads first in each phase, numbered as its chip's arrival
    counter counts them (spinla.h); each reading tile's wait is the count that covers all of
    its recvs."""
    count = {}
    for (x, y, core), phases in cores.items():
        if core != 0:
            continue
        n = 0
        for ph in phases:
            ph.recv.sort(key=lambda r: id(r) not in reads)      # stable: reads, then writes
            for r in ph.recv:
                n += 1
                count[id(r)] = n
    for ph, recs in needs:
        ph.wait = max(count[id(r)] for r in recs)


def serialise(phases, xy_core, machine, nbuffers: int) -> bytes:
    """One core's stream in spinla.h's layout."""
    hdr, phr = abi.struct("spl_stream_header_t"), abi.struct("spl_phase_t")
    dr, pr = abi.struct("spl_dma_t"), abi.struct("spl_packet_t")
    x, y, core = xy_core
    out = [hdr.pack(dict(magic=abi.const("SPL_STREAM_MAGIC"),
                         version=abi.const("SPL_STREAM_VERSION"), chip_x=x, chip_y=y,
                         core=core, nphases=len(phases), dtcm_bytes=machine.dtcm_bytes,
                         nbuffers=nbuffers))]
    for ph in phases:
        out.append(phr.pack(dict(call=ph.call, kernel=ph.kernel, tile=ph.tile,
                                 ntile_fields=len(ph.fields), ndma=len(ph.dmas),
                                 nsend=len(ph.send), nrecv=len(ph.recv), dtcm_bytes=ph.dtcm,
                                 barrier=ph.call, wait_arrivals=ph.wait)))
        out.append(np.asarray(ph.fields, "<i4").tobytes())
        out.append(_pack_all(dr, ph.dmas))
        out.append(_pack_all(pr, ph.send + ph.recv))
    return b"".join(out)


def _pack_all(st, records) -> bytes:
    """Records (dicts of a struct's fields) as consecutive structs, through a NumPy structured
    array of the header's layout (many thousands per stream)."""
    if not records:
        return b""
    dt = st.numpy_dtype()
    arr = np.zeros(len(records), dt)
    for name in dt.names:
        arr[name] = [r.get(name, 0) for r in records]
    return arr.tobytes()


def streams(program, machine, placement=None) -> dict:
    """{(chip_x, chip_y, core): bytes}: every used core's stream (see the module doc)."""
    cores, bt = build(program, machine, placement)
    return {k: serialise(v, k, machine, len(bt.entries)) for k, v in sorted(cores.items())}


def parse(blob: bytes) -> dict:
    """A stream back as dicts ({'header': ..., 'phases': [...]}), for tests and tools."""
    hdr, phr = abi.struct("spl_stream_header_t"), abi.struct("spl_phase_t")
    dr, pr = abi.struct("spl_dma_t"), abi.struct("spl_packet_t")
    h = hdr.unpack(blob)
    if h["magic"] != abi.const("SPL_STREAM_MAGIC"):
        raise ValueError(f"not a spinla stream (magic {h['magic']:#x})")
    pos, phases = hdr.size, []
    for _ in range(h["nphases"]):
        ph = phr.unpack(blob, pos)
        pos += phr.size
        nf = ph["ntile_fields"]
        ph["fields"] = np.frombuffer(blob, "<i4", nf, pos).tolist()
        pos += 4 * nf
        ph["dmas"] = [dr.unpack(blob, pos + j * dr.size) for j in range(ph["ndma"])]
        pos += ph["ndma"] * dr.size
        pk = [pr.unpack(blob, pos + j * pr.size) for j in range(ph["nsend"] + ph["nrecv"])]
        pos += len(pk) * pr.size
        ph["send"], ph["recv"] = pk[:ph["nsend"]], pk[ph["nsend"]:]
        phases.append(ph)
    if pos != len(blob):
        raise ValueError(f"stream has {len(blob) - pos} bytes after its last phase")
    return dict(header=h, phases=phases)


def write(program, machine, directory: str, placement=None) -> list:
    """Write every core's stream to directory/core-X-Y-C.bin and the buffer table to
    directory/buffers.json (index, name, bytes); returns the paths written."""
    import json
    import os
    os.makedirs(directory, exist_ok=True)
    cores, bt = build(program, machine, placement)
    paths = []
    for (x, y, c), phases in sorted(cores.items()):
        path = os.path.join(directory, f"core-{x}-{y}-{c}.bin")
        with open(path, "wb") as f:
            f.write(serialise(phases, (x, y, c), machine, len(bt.entries)))
        paths.append(path)
    path = os.path.join(directory, "buffers.json")
    with open(path, "w") as f:
        json.dump([dict(index=i, name=n, bytes=b) for i, (n, b) in enumerate(bt.entries)], f,
                  indent=1)
    return paths + [path]
