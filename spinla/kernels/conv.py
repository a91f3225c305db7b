"""conv2d_q15 family: 2-D convolution (NHWC) and the pieces of its gradients.

Kernels (spinla_c/conv2d_q15.c):
  conv2d_pack_q15        HWIO weights -> packed rows (forward: cout x K, K = (ky, kx, ci);
                         flipped: cin x K' for the input gradient), table-masked.
  conv2d_q15             forward tile = output pixels [p0, p1) x channels [c0, c1): im2col rows
                         built in DTCM scratch, then arm_gemm_q15.  Also runs the input
                         gradient (on the stride-dilated delta with the flipped weights).
  conv2d_gw_q15          weight gradient partials: exact int64 sums over a pixel range, from
                         transposed im2col chunks (byte-split when magnitudes are large).
  conv2d_gw_reduce_q15   sum of the partials, one rounding per weight, table mask; tiles are
                         flat ranges of the weights.

Packed rows are padded to a multiple of K_ALIGN q15 values (zeros, exact) so that every row
starts word-aligned on the ARM968 and the host's vector loops run without a scalar tail.
DTCM per tile is accounted as the brief of each lowering says (weights slice, scratch, the
input rows the tile reads, its outputs); tiles that cannot fit raise tiling.no_fit.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import abi, tiling
from ..fixed import INT16, ROUNDING_MODES, STOCHASTIC
from ..program import Buffer, Call
from . import (NULL, SEED, In, Out, Scratch, Step, cycle_table, dma, i32,
               register_bound, threads)

# Packed row stride alignment (q15 values): 16 lets the host's 256/512-bit loops of
# arm_gemm_q15 run whole vectors.  The padding is zeros, so results are unchanged, and the ARM
# kernels run over k rounded up to even (one LDR per pair), not over this stride: their cycle
# formulas, fitted on the ARM build, count that k, not the padding.
K_ALIGN = 16

# Scratch rows per arm_gemm_q15 call (forward) and pixels per chunk (weight gradient).  A
# multiple of 12, so that a full scratch block is whole register blocks on both builds (the
# ARM968's 3 x 2, gemm_q15.c; the host's 4 x 4): 36 rows put LeNet-5's 36-pixel C1 tile in one
# GEMM call of 3 x 2 blocks only (32 rows left 2 + 4 rows to the slower 2 x 2 blocks).  The
# GEMM call's fixed cost (~550 cycles, cycle_table gemm per_tile; no operand scan on the ARM)
# is then ~4 % of a k = 25 call's MACs, for 72 * K bytes of DTCM.
SCRATCH_ROWS = 36
GW_SCRATCH_COLS = 64
# Weight-gradient partials: the partial pass's tiles are (pixel range, channel slice) pairs,
# one int64 partial (8 bytes per weight) per pixel range, and the combining call's tiles
# (flat weight ranges, spread over the cores) read their range of every partial.  A partial
# lives on the chip that wrote it, so nearly all of it crosses links to the combining chips
# as multicast packets, received by cores: fewer, wider pixel ranges, their channels split
# over the cores of one chip, cut that traffic at the price of im2col work repeated per
# channel slice.  _gw_estimate weighs the two.
# Reduce DTCM per weight: int64 sum, two int64 partial slices in flight, q15 output.
REDUCE_DTCM_PER_ELEM = 8 * 3 + 2



def k_stride(k: int) -> int:
    return -(-k // K_ALIGN) * K_ALIGN


# The spl_conv2d_t fields in the header's order: a Call's params["geom"] is a tuple of them,
# handed to C as an int32 array.
GEOM_FIELDS = abi.struct("spl_conv2d_t").names


def geometry(**fields):
    """The spl_conv2d_t fields (by name), as a tuple in the struct's order."""
    if set(fields) != set(GEOM_FIELDS):
        raise TypeError(f"conv2d geometry needs exactly {GEOM_FIELDS}, got {sorted(fields)}")
    return tuple(int(fields[f]) for f in GEOM_FIELDS)


def _g(geom):
    return dict(zip(GEOM_FIELDS, geom))


def _i32(v):
    return np.ascontiguousarray(v, dtype=np.int32)


def _input_rows(g, p0, p1):
    """First global input row (n * h + iy) and row count each pixel range [p0, p1) reads."""
    per = g["oh"] * g["ow"]
    first, last = p0, np.maximum(p1 - 1, p0)
    n0, oy0 = first // per, (first % per) // g["ow"]
    n1, oy1 = last // per, (last % per) // g["ow"]
    h = g["h"]
    start = n0 * h + np.minimum(np.maximum(oy0 * g["sy"] - g["pt"], 0), h)
    end = n1 * h + np.minimum(np.maximum(oy1 * g["sy"] - g["pt"] + g["kh"], 0), h)
    end = np.maximum(end, start)
    return start.astype(np.int64), (end - start).astype(np.int64)


def _pixel_channel_grid(g, m, per, cout, ct):
    """Every (pixel range of `per`, channel slice of `ct`) pair: pixel bounds p0/p1 with the
    input rows each needs, channel bounds c0/c1, and the flattened pair indices pi/ci."""
    p0, p1 = _pixel_ranges(g, m, per)
    xrow0, nrows = _input_rows(g, p0, p1)
    c0 = np.arange(0, cout, ct, dtype=np.int64)
    c1 = np.minimum(c0 + ct, cout)
    pi, ci = np.meshgrid(np.arange(len(p0)), np.arange(len(c0)), indexing="ij")
    return p0, p1, xrow0, nrows, c0, c1, pi.ravel(), ci.ravel()


def pixel_granule(g) -> int:
    """Pixel ranges split inside an image start at multiples of this: 4 (else 2) where the
    output rows allow, so that every row part of a range starts even and is even and, with 4,
    at least 4 long, as the ARM968's direct cin = 1 path needs (spinla.h
    SPL_CONV2D_DIRECT_*, direct_blocks); harmless elsewhere (the bits do not depend on the
    ranges)."""
    ow = g["ow"]
    return 4 if ow % 4 == 0 else 2 if ow % 2 == 0 else 1


def _pixel_ranges(g, m, per):
    """Ranges of at most `per` of the m output pixels, aligned to images
    (spinla.tiling.aligned_ranges: a data-parallel replica's images are whole ranges) and to
    pixel_granule; the bits do not depend on the ranges."""
    return tiling.aligned_ranges(m, per, g["oh"] * g["ow"], pixel_granule(g))


# --- packing ---------------------------------------------------------------------------------

def _pack_cycles(call, machine):
    t = call.tiles
    kh, kw = call.params["wshape"][:2]
    # Dense: a connection table's left-out weights cost less than the formula says.
    return cycle_table.predict("conv2d_pack", rows=(t[:, 1] - t[:, 0]).astype(np.float64),
                               k=call.params["k"], taps=kh * kw, flip=float(call.params["flip"]))


@register_bound("conv2d_pack_q15", _pack_cycles,
                "HWIO weights -> packed k-contiguous rows, masked")
def bind_pack(call):
    p = call.params
    kh, kw, cin, cout = p["wshape"]
    table = In(1) if len(call.inputs) > 1 else NULL
    return (Step("spl_run_conv2d_pack", (In(0), kh, kw, cin, cout, table, int(p["flip"]),
                                         Out(0), p["ldw"], i32(call.tiles), call.ntiles,
                                         threads())),)


def lower_pack(w_buf, table_buf, out_buf, *, flip: bool, machine, op: str):
    """Call packing HWIO weights into out_buf (rows x ldw): rows = cout (forward) or cin
    (flipped, for the input gradient)."""
    kh, kw, cin, cout = w_buf.shape
    rows, ldw = out_buf.shape
    k = kh * kw * (cout if flip else cin)
    ins = (w_buf,) if table_buf is None else (w_buf, table_buf)
    tbytes = 0 if table_buf is None else 2 * cin * cout
    # A core gathers whole packed rows (in and out buffers); rows per tile fit DTCM.
    per = max(1, min(math.ceil(rows / machine.cores),
                     (machine.tile_budget_bytes - tbytes) // (4 * ldw)))
    b = np.arange(0, rows, per, dtype=np.int64)
    tiles = np.stack([b, np.minimum(b + per, rows)], 1).astype(np.int32)
    nr = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    return Call(kernel="conv2d_pack_q15", op=op, inputs=ins, outputs=(out_buf,),
                params=dict(wshape=(kh, kw, cin, cout), flip=bool(flip), ldw=ldw, k=k),
                tiles=tiles, cores=tiling.place(len(tiles), machine),
                macs=np.zeros(len(tiles), np.int64), elems=nr * k,
                dma_in=2 * nr * k + tbytes, dma_out=2 * nr * ldw,
                dtcm=4 * nr * ldw + tbytes)


# --- forward ---------------------------------------------------------------------------------

def direct_blocks(geom, p0, p1, nc, ldw, rows, rounding, shift):
    """(blocks of 6 pixels, blocks of 4, row parts) per tile [p0, p1) x nc channels (arrays)
    that conv2d_q15.c's direct cin = 1 path runs on the ARM968 (spinla.h SPL_CONV2D_DIRECT_*:
    a single-channel input, a SPL_CONV2D_DIRECT_KW-wide kernel, stride 1, no padding, even w and
    ldw, every row part of the tile starting even, even and at least 4 long, round to nearest,
    the weights in the scratch); zeros where a tile takes the im2col path.  A row part of L
    pixels is 6-pixel blocks then a 4, or two 4s when 8 are left, as the kernel splits it.  (Not
    modelled: the rare tile whose int32 sums overflow or whose outputs saturate, which the kernel
    then redoes on the im2col path.)"""
    g = geom if isinstance(geom, dict) else _g(geom)
    p0, p1 = np.asarray(p0, np.int64), np.asarray(p1, np.int64)
    zero = np.zeros(np.broadcast(p0, p1, np.asarray(nc)).shape, np.int64)
    ow, kh = g["ow"], g["kh"]
    if not (g["cin"] == 1 and g["kw"] == abi.const("SPL_CONV2D_DIRECT_KW")
            and 1 <= kh <= abi.const("SPL_CONV2D_DIRECT_KH_MAX") and g["sx"] == g["sy"] == 1
            and g["pt"] == g["pl"] == 0 and g["w"] % 2 == 0 and ldw % 2 == 0
            and ow + g["kw"] - 1 <= g["w"] and g["oh"] + kh - 1 <= g["h"]
            and rounding in ("nearest", 0) and 0 < shift < 32):
        return zero, zero, zero
    n = p1 - p0
    ox0 = np.mod(p0, ow)
    first = np.minimum(ow - ox0, n)
    rest = n - first
    full, last = rest // ow, np.mod(rest, ow)

    def split(L):  # (6s, 4s) of a row part of L pixels
        r = np.mod(L, 6)
        n4 = np.where(r == 4, 1, np.where(r == 2, 2, 0))
        return (L - 4 * n4) // 6, n4

    ok = ((np.mod(ox0, 2) == 0) & (np.mod(first, 2) == 0) & (first >= 4)
          & ((last == 0) | ((np.mod(last, 2) == 0) & (last >= 4)))
          & ((full == 0) | ((ow % 2 == 0) & (ow >= 4)))
          & (abi.macro("SPL_CONV2D_DIRECT_SCRATCH")(np.asarray(nc)) <= rows * ldw))
    f6, f4 = split(first)
    r6, r4 = split(np.asarray(ow))
    l6, l4 = split(last)
    n6 = f6 + full * r6 + l6
    n4 = f4 + full * r4 + l4
    parts = 1 + full + (last > 0)
    return (np.where(ok, n6, 0) + zero, np.where(ok, n4, 0) + zero,
            np.where(ok, parts, 0) + zero)


def _conv_cycles(call, machine):
    g, p = _g(call.params["geom"]), call.params
    t = call.tiles
    pix = (t[:, 1] - t[:, 0]).astype(np.float64)
    ct = (t[:, 3] - t[:, 2]).astype(np.float64)
    k = g["kh"] * g["kw"] * g["cin"]
    n6, n4, parts = direct_blocks(g, t[:, 0], t[:, 1], t[:, 3] - t[:, 2], p["ldw"],
                                  p["scratch_rows"], p["rounding"], p["shift"])
    return cycle_table.predict("conv2d", pix=pix, ct=ct, k=k, ldw=p["ldw"], kh=g["kh"],
                               rows=p["scratch_rows"], n6=n6, n4=n4, parts=parts,
                               stochastic=p["rounding"] == STOCHASTIC)


@register_bound("conv2d_q15", _conv_cycles, "2-D convolution: fused im2col + gemm microkernel")
def bind_conv(call):
    p = call.params
    nth = threads()
    ldw, rows = p["ldw"], p["scratch_rows"]
    return (Step("spl_run_conv2d", (In(0), In(1), Out(0), i32(p["geom"]), ldw, i32(call.tiles),
                                    call.ntiles, Scratch(nth * rows * ldw), rows, p["shift"],
                                    ROUNDING_MODES[p["rounding"]], SEED, nth)),)


def _shrink(fits, per, ct, rows, budget, k):
    """Largest (per, ct, rows) found by shrinking until fits(per, ct, rows): first the scratch
    while it takes over a quarter of DTCM (rows >= 4 keep the 4x4 register block busy), then the
    pixel range, then the channel slice, then everything down to single pixels.  None if even
    (1, 1, 1) does not fit."""
    while not fits(per, ct, rows):
        if rows > 4 and 2 * rows * k > budget // 4:
            rows //= 2
        elif per > 4:
            per = max(4, per * 3 // 4)
        elif ct > 1:
            ct = (ct + 1) // 2
        elif rows > 1:
            rows //= 2
        elif per > 1:
            per -= 1
        else:
            return None
    return per, ct, rows


def _frozen(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


@functools.lru_cache(maxsize=256)
def _conv_plan(geom, machine, op, shapes):
    """Tiles (p0, p1, c0, c1, xrow0), scratch rows and per-tile DTCM bytes: weight slice +
    im2col scratch + input rows + output tile fit the budget; tiles are spread over the
    cores.  Cached (a traced training step lowers the same shapes again and again), so the
    arrays are read-only."""
    g = _g(geom)
    budget = machine.tile_budget_bytes
    m, cout, k = g["n"] * g["oh"] * g["ow"], g["cout"], g["kh"] * g["kw"] * g["cin"]
    rowb = 2 * g["w"] * g["cin"]

    def need(per, ct, rows):
        p0, p1 = _pixel_ranges(g, m, per)
        _, nrows = _input_rows(g, p0, p1)
        pix = p1 - p0
        return 2 * ct * k + 2 * min(rows, per) * k + rowb * nrows + 2 * pix * ct

    ct = cout
    while ct > 1 and 2 * ct * k > budget // 2:
        ct = (ct + 1) // 2
    nct = math.ceil(cout / ct)
    per = max(min(m, 16), math.ceil(m * nct / machine.cores))
    per = min(m, -(-per // 4) * 4)
    plan = _shrink(lambda p, c, r: need(p, c, r).max() <= budget, per, ct, SCRATCH_ROWS,
                   budget, k)
    if plan is None:
        raise tiling.no_fit(op, shapes, int(need(1, 1, 1).max()), budget,
                            "one output pixel's weights, input rows and im2col row exceed "
                            "DTCM")
    per, ct, rows = plan
    rows = min(rows, per)
    p0, p1, xrow0, nrows, c0, c1, pi, ci = _pixel_channel_grid(g, m, per, cout, ct)
    tiles = np.stack([p0[pi], p1[pi], c0[ci], c1[ci], xrow0[pi]], 1).astype(np.int32)
    pix, tct = (p1 - p0)[pi], (c1 - c0)[ci]
    dtcm = 2 * tct * k + 2 * rows * k + rowb * nrows[pi] + 2 * pix * tct
    return (rows,) + _frozen(tiles, pix, tct, nrows[pi], dtcm)


def _macs(pix, c0, c1, k, connected):
    """MACs of tiles over channels [c0, c1): dense, or only the connected K entries."""
    if connected is None:
        return pix * (c1 - c0).astype(np.int64) * k
    csum = np.concatenate([[0], np.cumsum(np.asarray(connected, np.int64))])
    return pix * (csum[c1] - csum[c0])


def lower_conv(x_buf, wt_buf, y_buf, geom, *, shift: int, rounding: str, machine, op: str,
               connected=None):
    """Call for y = requant(conv(x, packed weights)).  connected: per output channel, the number
    of K entries the channel table keeps (None: all); the `macs` annotation counts only those
    (useful work), while the cycle formula prices the dense MACs the kernel executes."""
    g = _g(geom)
    k = g["kh"] * g["kw"] * g["cin"]
    ldw = wt_buf.shape[1]
    rows, tiles, pix, tct, nrows, dtcm = _conv_plan(tuple(geom), machine, op,
                                                    (x_buf.shape, y_buf.shape))
    macs = _macs(pix, tiles[:, 2], tiles[:, 3], k, connected)
    st = rounding == STOCHASTIC
    return Call(kernel="conv2d_q15", op=op, inputs=(x_buf, wt_buf), outputs=(y_buf,),
                params=dict(geom=tuple(geom), ldw=ldw, scratch_rows=rows, shift=shift,
                            rounding=rounding),
                tiles=tiles, cores=tiling.place(len(tiles), machine), macs=macs,
                elems=pix * tct, dma_in=2 * tct * k + 2 * g["w"] * g["cin"] * nrows,
                dma_out=2 * pix * tct, dtcm=dtcm,
                stochastic=st)


# --- weight gradient ---------------------------------------------------------------------------

def _gw_cycles(call, machine):
    g = _g(call.params["geom"])
    t = call.tiles
    pix = (t[:, 2] - t[:, 1]).astype(np.float64)
    ct = (t[:, 4] - t[:, 3]).astype(np.float64)
    k = g["kh"] * g["kw"] * g["cin"]
    return cycle_table.predict("conv2d_gw", pix=pix, ct=ct, k=k,
                               cols=call.params["scratch_cols"])


@register_bound("conv2d_gw_q15", _gw_cycles, "conv2d weight gradient: exact int64 partial sums")
def bind_gw(call):
    """The partials are an int16 buffer of 4 words per int64 value (C reads it as int64)."""
    p = call.params
    g = _g(p["geom"])
    nth = threads()
    cols = p["scratch_cols"]
    k = g["kh"] * g["kw"] * g["cin"]
    tiles = host_gw_tiles(call.tiles, g["cout"])
    return (Step("spl_run_conv2d_grad_weight", (In(0), In(1), Out(0, ctype="int64_t *"),
                                                i32(p["geom"]), i32(tiles), len(tiles),
                                                Scratch(nth * gw_scratch(k, g["cout"], cols)),
                                                cols, nth)),)


def host_gw_tiles(tiles, cout: int) -> np.ndarray:
    """The tiles the host runs: where the board's tiles of a pixel range (one partial) split
    its channels into slices that together cover all cout, one tile of all the channels
    instead.  The board splits channels so that a chip's cores share one partial (the plan's
    link traffic, _gw_estimate); on the host each slice would repeat the range's im2col.  A
    partial's values do not depend on how its channels are sliced (exact int64 sums), so the
    bits are the same; any other tile set (a checked-mode tile alone) runs as it is."""
    t = np.asarray(tiles)
    if len(t) == 0 or (t[:, 3] == 0).all() and (t[:, 4] == cout).all():
        return t
    order = np.lexsort((t[:, 3], t[:, 0]))
    s = t[order]
    first = np.r_[True, s[1:, 0] != s[:-1, 0]]
    last = np.r_[s[1:, 0] != s[:-1, 0], True]
    same_range = (s[1:, 1:3] == s[:-1, 1:3]).all(1) | first[1:]
    chained = (s[1:, 3] == s[:-1, 4]) | first[1:]
    if not (same_range.all() and chained.all() and (s[first, 3] == 0).all()
            and (s[last, 4] == cout).all()):
        return t
    out = s[first].copy()
    out[:, 3], out[:, 4] = 0, cout
    out.flags.writeable = False
    return out


def gw_scratch(k, nc, cols):
    """q15 values of conv2d_gw_q15's scratch (SPL_CONV2D_GW_SCRATCH of spinla.h): im2col and
    its high bytes (k rows each) and delta (nc rows), rows padded to multiples of 4, `cols`
    pixels per row."""
    return abi.macro("SPL_CONV2D_GW_SCRATCH")(k, nc, cols)


def _reduce_cycles(call, machine):
    t = call.tiles
    p = call.params
    n = (t[:, 1] - t[:, 0]).astype(np.float64)
    # Dense: a connection table's left-out weights cost less than the formula says.
    return cycle_table.predict("conv2d_gw_reduce", n=n, nparts=p["nparts"])


@register_bound("conv2d_gw_reduce_q15", _reduce_cycles,
                "conv2d weight gradient: sum of partials, one rounding, table mask")
def bind_gw_reduce(call):
    p = call.params
    table = In(1) if len(call.inputs) > 1 else NULL
    return (Step("spl_run_conv2d_grad_weight_reduce", (
        In(0, ctype="int64_t *"), p["nparts"], p["k"], p["cin"], p["cout"], table, Out(0),
        i32(call.tiles), call.ntiles, p["shift"], ROUNDING_MODES[p["rounding"]], SEED,
        threads())),)


def _gw_plans(m, k, cout, ct, machine, fits):
    """Candidate (per, ct, cols) plans of the partial pass: channel slices of ct, ct / 2, ...
    1, and for each 1, 2, 4, ... pixel ranges (partials) up to one tile per core, each shrunk
    until it fits DTCM (_shrink); no duplicates."""
    budget = machine.tile_budget_bytes
    seen = set()
    while True:
        nct = math.ceil(cout / ct)
        most = max(1, min(math.ceil(m / 4), machine.cores // nct))
        p = 1
        while True:
            parts = min(p, most)
            per = min(m, -(-math.ceil(m / parts) // 4) * 4)
            plan = _shrink(fits, per, ct, GW_SCRATCH_COLS, budget, 2 * k + ct)
            if plan is not None and plan not in seen:
                seen.add(plan)
                yield plan
            if parts >= most:
                break
            p *= 2
        if ct == 1:
            return
        ct = (ct + 1) // 2


def _gw_estimate(geom, g, m, k, cout, plan, machine):
    """Estimated cycles of the two calls under `plan` (per, ct, cols), to choose a plan:
      partial pass: its busiest core, the tiles given to the cores in contiguous runs of
        about equal cycles as spinla.place.assign gives them;
      partials: 8 bytes per weight each.  A pixel range's channel slices are neighbouring
        tiles, so on neighbouring cores: the partials spread over the C chips the tiles
        fill, and all but 1 / C of each chip's partial bytes go to the combining tiles on
        the other chips, B packets per chip (Machine.packet_payload_bytes each), sent and
        received by the chips' cores (Machine.send/receive_cycles_per_packet, spread over
        Machine.app_cores_per_chip).  The busiest link (Machine.link_packets_per_s) carries
        the larger of a chip's first hops, B over spinla.kernels.reduce.PARTIAL_LINKS links
        (an ASSUMPTION for choosing plans; spinla.cost prices the placed Calls exactly), and
        its share of the bisection of this all-to-all exchange: on a sqrt(C) x sqrt(C)
        grid, half of the C chips send half of their B packets across sqrt(C) links,
        B sqrt(C) / 4 each;
      combining call: its busiest tile (cycle table conv2d_gw_reduce), reading every
        partial; its packet handling or the links, whichever binds."""
    from types import SimpleNamespace

    from .reduce import PARTIAL_LINKS
    per, ct, cols = plan
    p0, p1, xrow0, nrows, c0, c1, pi, ci = _pixel_channel_grid(g, m, per, cout, ct)
    tiles = np.stack([pi, p0[pi], p1[pi], c0[ci], c1[ci], xrow0[pi]], 1)
    fake = SimpleNamespace(tiles=tiles, params=dict(geom=tuple(geom),
                                                   scratch_cols=min(cols, per)))
    cyc = np.maximum(_gw_cycles(fake, machine), 1.0)
    ncores = min(len(cyc), machine.cores)
    slot = np.minimum(((np.cumsum(cyc) - cyc / 2) / cyc.sum() * ncores).astype(np.int64),
                      ncores - 1)
    busy = float(np.bincount(slot, weights=cyc).max())
    a = machine.app_cores_per_chip
    chips = min(machine.chips, math.ceil(ncores / a))
    nparts, ne = len(p0), k * cout
    pk = 8.0 * ne * nparts / chips * (1 - 1 / chips) / machine.packet_payload_bytes
    link = (pk * max(1 / PARTIAL_LINKS, math.sqrt(chips) / 4)
            * machine.clock_hz / machine.link_packets_per_s)
    cpu = pk * (machine.send_cycles_per_packet + machine.receive_cycles_per_packet) / a
    red = float(cycle_table.predict("conv2d_gw_reduce", n=float(math.ceil(ne / machine.cores)),
                                    nparts=nparts))
    return busy + machine.barrier_cycles + max(link, cpu + red)


def _gw_need(g, per, ct, cols):
    """DTCM bytes of each partial-pass tile of `per` pixels and `ct` channels: its int64
    sums, scratch, input rows and delta slice."""
    m, k = g["n"] * g["oh"] * g["ow"], g["kh"] * g["kw"] * g["cin"]
    p0, p1 = _pixel_ranges(g, m, per)
    _, nrows = _input_rows(g, p0, p1)
    return (8 * k * ct + 2 * gw_scratch(k, ct, min(cols, per)) + 2 * g["w"] * g["cin"] * nrows
            + 2 * (p1 - p0) * ct)


@functools.lru_cache(maxsize=256)   # eager ops lower the same shapes again and again
def _gw_plan(geom, machine):
    """(per, ct, cols) of the weight gradient, or None when no tile fits DTCM: among
    _gw_plans (from the widest channel slice whose sums fill at most half of DTCM), the one
    of least _gw_estimate (ties: the first, the wider channel slice and fewer partials)."""
    g = _g(geom)
    budget = machine.tile_budget_bytes
    m, cout, k = g["n"] * g["oh"] * g["ow"], g["cout"], g["kh"] * g["kw"] * g["cin"]
    ct = cout
    while ct > 1 and 8 * k * ct > budget // 2:
        ct = (ct + 1) // 2
    best, best_t = None, math.inf
    for plan in _gw_plans(m, k, cout, ct, machine,
                          lambda p, c, r: _gw_need(g, p, c, r).max() <= budget):
        t = _gw_estimate(geom, g, m, k, cout, plan, machine)
        if t < best_t:
            best, best_t = plan, t
    return best


def lower_grad_weight(x_buf, d_buf, table_buf, dw_buf, geom, *, shift: int, rounding: str,
                      machine, op: str, connected=None):
    """Two Calls: exact partials over pixel ranges (an int64 SDRAM buffer, 4 q15 words per
    value), then their sum with one rounding per weight.  connected: as for lower_conv (the
    `macs` annotation only)."""
    g = _g(geom)
    budget = machine.tile_budget_bytes
    m, cout, k = g["n"] * g["oh"] * g["ow"], g["cout"], g["kh"] * g["kw"] * g["cin"]
    rowb = 2 * g["w"] * g["cin"]
    plan = _gw_plan(tuple(geom), machine)
    if plan is None:
        raise tiling.no_fit(op, [x_buf.shape, d_buf.shape, dw_buf.shape],
                            int(_gw_need(g, 1, 1, 1).max()), budget,
                            "one weight-gradient column and one pixel's im2col row exceed "
                            "DTCM")
    per, ct, cols = plan
    cols = min(cols, per)
    p0, p1, xrow0, nrows, c0, c1, pi, ci = _pixel_channel_grid(g, m, per, cout, ct)
    tiles = np.stack([pi, p0[pi], p1[pi], c0[ci], c1[ci], xrow0[pi]], 1).astype(np.int32)
    pix, tct = (p1 - p0)[pi], (c1 - c0)[ci]
    nparts = len(p0)
    part = Buffer((nparts, k, cout, 4), INT16, name="conv2d_gw_partials")
    gw = Call(kernel="conv2d_gw_q15", op=op, inputs=(x_buf, d_buf), outputs=(part,),
              params=dict(geom=tuple(geom), scratch_cols=cols),
              tiles=tiles, cores=tiling.place(len(tiles), machine),
              macs=_macs(pix, tiles[:, 3], tiles[:, 4], k, connected),
              elems=pix * k, dma_in=rowb * nrows[pi] + 2 * pix * tct, dma_out=8 * k * tct,
              dtcm=8 * k * tct + 2 * gw_scratch(k, tct, cols) + rowb * nrows[pi] + 2 * pix * tct)
    # Reduce: flat ranges of the k x cout weights over the cores, each streaming its slice of
    # every partial through DTCM (double-buffered) next to its int64 sums and q15 outputs.
    ne = k * cout
    per_e = max(1, min(budget // REDUCE_DTCM_PER_ELEM, math.ceil(ne / machine.cores)))
    eb = np.arange(0, ne, per_e, dtype=np.int64)
    rt = np.stack([eb, np.minimum(eb + per_e, ne)], 1).astype(np.int32)
    nk = (rt[:, 1] - rt[:, 0]).astype(np.int64)
    ins = (part,) if table_buf is None else (part, table_buf)
    st = rounding == STOCHASTIC
    red = Call(kernel="conv2d_gw_reduce_q15", op=op, inputs=ins, outputs=(dw_buf,),
               params=dict(nparts=nparts, k=k, cin=g["cin"], cout=cout, shift=shift,
                           rounding=rounding),
               tiles=rt, cores=tiling.place(len(rt), machine),
               macs=np.zeros(len(rt), np.int64), elems=nk * nparts,
               dma_in=8 * nk * nparts + (0 if table_buf is None else 2 * g["cin"] * cout),
               dma_out=2 * nk, dtcm=nk * REDUCE_DTCM_PER_ELEM,
               stochastic=st)
    return [gw, red]


# --- DMA plans ---------------------------------------------------------------------------------

def _x_rows(g, xrow0, p0, p1):
    """The input rows a pixel range reads: from global row xrow0 (the tile record's), as many
    as _input_rows counts."""
    _, nrows = _input_rows(g, np.int64(p0), np.int64(p1))
    rowb = 2 * g["w"] * g["cin"]
    return dma.block(dma.READ, 0, xrow0 * rowb, int(nrows) * rowb)


@dma.describes("conv2d_q15")
def plan_conv(call, t):
    """Input rows, the packed weight rows c0..c1 (k values each, laid out ldw apart in DTCM,
    the padding zero-filled), the output pixels' channel slice; scratch: im2col rows."""
    p0, p1, c0, c1, xrow0 = (int(v) for v in call.tiles[t])
    g, p = _g(call.params["geom"]), call.params
    k, ldw, cout = g["kh"] * g["kw"] * g["cin"], p["ldw"], g["cout"]
    return dma.TilePlan((
        _x_rows(g, xrow0, p0, p1),
        dma.rows(dma.READ, 1, 2 * c0 * ldw, c1 - c0, 2 * k, 2 * ldw, dtcm_stride=2 * ldw),
        dma.rows(dma.WRITE, 0, 2 * (p0 * cout + c0), p1 - p0, 2 * (c1 - c0), 2 * cout)),
        scratch=2 * p["scratch_rows"] * ldw)


@dma.describes("conv2d_pack_q15")
def plan_pack(call, t):
    """Forward: packed row co gathers w[:, :, :, co] (k rows of the HWIO array, a column slice
    of each); flipped: row ci gathers w[:, :, ci, :] (one block per tap).  The table whole."""
    r0, r1 = (int(v) for v in call.tiles[t])
    p = call.params
    kh, kw, cin, cout = p["wshape"]
    nr = r1 - r0
    if p["flip"]:
        w = dma.rows(dma.READ, 0, 2 * r0 * cout, kh * kw, 2 * nr * cout, 2 * cin * cout)
    else:
        w = dma.rows(dma.READ, 0, 2 * r0, kh * kw * cin, 2 * nr, 2 * cout)
    ds = [w]
    if len(call.inputs) > 1:
        ds.append(dma.block(dma.READ, 1, 0, 2 * cin * cout))
    ds.append(dma.block(dma.WRITE, 0, 2 * r0 * p["ldw"], 2 * nr * p["ldw"]))
    return dma.TilePlan(tuple(ds))


@dma.describes("conv2d_gw_q15")
def plan_gw(call, t):
    """Input rows, delta's pixel rows (channel slice), and the tile's int64 partial sums
    (k rows of the channel slice in partial `slot`); scratch: the im2col chunks."""
    slot, p0, p1, c0, c1, xrow0 = (int(v) for v in call.tiles[t])
    g = _g(call.params["geom"])
    k, cout, tct = g["kh"] * g["kw"] * g["cin"], g["cout"], c1 - c0
    return dma.TilePlan((
        _x_rows(g, xrow0, p0, p1),
        dma.rows(dma.READ, 1, 2 * (p0 * cout + c0), p1 - p0, 2 * tct, 2 * cout),
        dma.rows(dma.WRITE, 0, 8 * (slot * k * cout + c0), k, 8 * tct, 8 * cout)),
        scratch=2 * gw_scratch(k, tct, call.params["scratch_cols"]))


@dma.describes("conv2d_gw_reduce_q15")
def plan_gw_reduce(call, t):
    """The tile's slice of every partial, the table whole, its slice of the gradient."""
    e0, e1 = (int(v) for v in call.tiles[t])
    p = call.params
    ne, nk = p["k"] * p["cout"], e1 - e0
    ds = [dma.rows(dma.READ, 0, 8 * e0, p["nparts"], 8 * nk, 8 * ne)]
    if len(call.inputs) > 1:
        ds.append(dma.block(dma.READ, 1, 0, 2 * p["cin"] * p["cout"]))
    ds.append(dma.block(dma.WRITE, 0, 2 * e0, 2 * nk))
    # Streams the partials two slices at a time next to its int64 sums.
    return dma.TilePlan(tuple(ds), resident=nk * REDUCE_DTCM_PER_ELEM)
