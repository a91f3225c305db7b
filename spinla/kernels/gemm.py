"""gemm_q15: C = requant(A . Bt^T) with A (m x k) and Bt (n x k), optionally batched.

Tiling: a tile is an (mt x nt) block of C whose A rows and Bt rows (all of k) sit in DTCM
together with the tile's output, so a core DMAs (mt + nt) * k * 2 bytes in and mt * nt * 2 out
and runs mt * nt * k MACs.  Tiles shrink until there are enough to occupy every core.

The emulator need not run the board's tiles: every output is the exact integer dot product of
its row and column, rounded once with its global position as the stochastic index, so any
partition of the output gives the same bits and saturation count.  When a Call's tiles cover
its whole output (always, except the one-tile calls of the checked mode), the host runs
blocks sized for its own caches and threads instead (host_tiles).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import SEED, In, Out, Step, cycle_table, dma, i32, register_bound, threads

# Tiles are not split below the size at which a tile's fixed costs (its two DMA set-ups, the
# kernel call's per-tile cycles and the phase barrier its core waits in: machine.py's
# dma_setup_cycles and barrier_cycles, cycle_table's gemm per_tile) exceed MIN_TILE_OVERHEAD of
# its MAC time (the calibrated cycles per MAC of a large tile, GEMM_REFERENCE_TILE): below it,
# spreading a small product over more cores (and chips) stops paying.  About 28k MACs with
# the calibrated ARM kernels (32k when they were assumed to take 1.25 cycles/MAC).
MIN_TILE_OVERHEAD = 0.05
GEMM_REFERENCE_TILE = (64, 128, 64)


def min_tile_macs(machine) -> int:
    m, n, k = GEMM_REFERENCE_TILE
    per_mac = float(cycle_table.predict("gemm", m=m, n=n, k=k)) / (m * n * k)
    fixed = (machine.barrier_cycles + 2 * machine.dma_setup_cycles
             + cycle_table.TABLE["gemm"]["per_tile"].value)
    return int(fixed / (MIN_TILE_OVERHEAD * per_mac))


def _cycles(call, machine):
    t = call.tiles
    m, n = (t[:, 2] - t[:, 1]).astype(np.float64), (t[:, 4] - t[:, 3]).astype(np.float64)
    return cycle_table.predict("gemm", m=m, n=n, k=call.params["k"],
                               stochastic=call.params["rounding"] == STOCHASTIC)


@register_bound("gemm_q15", _cycles, "fixed-point matrix multiply, k-contiguous operands")
def bind(call):
    p = call.params
    tiles = _host_or_board_tiles(call)
    return (Step("spl_run_gemm", (In(0), In(1), Out(0), p["m"], p["n"], p["k"], i32(tiles),
                                  len(tiles), p["shift"], ROUNDING_MODES[p["rounding"]], SEED,
                                  threads(call.outputs[0].size * p["k"]))),)


def _host_or_board_tiles(call):
    """host_tiles when the board tiles cover the whole output (disjoint tiles whose areas add
    up to it), else the board tiles themselves (a checked-mode tile must write only its own
    block)."""
    t = call.tiles
    batch = int(t[:, 0].max()) + 1 if len(t) else 0
    area = int(((t[:, 2] - t[:, 1]).astype(np.int64) * (t[:, 4] - t[:, 3])).sum())
    m, n = call.params["m"], call.params["n"]
    if area != batch * m * n:
        return t
    return host_tiles(batch, m, n, threads(batch * m * n * call.params["k"]))


# Host blocks: up to 64 x 64 outputs (a block's A and Bt rows stay in L2 for k up to ~1000),
# halved until there are HOST_BLOCKS_PER_THREAD per host thread to balance the dynamic
# schedule.  Measured on a 2-core AVX-512 host (MLP-1's products at batch 64): 1.1-1.5x faster
# than the board's tiles, which are often 8 x 8 to 29 x 29 blocks.
HOST_BLOCK = 64
HOST_BLOCKS_PER_THREAD = 8


@functools.lru_cache(maxsize=256)
def host_tiles(batch: int, m: int, n: int, nthreads: int) -> np.ndarray:
    """(batch, m0, m1, n0, n1) rows of the host's partition of a batch x m x n output."""
    mt, nt = min(m, HOST_BLOCK), min(n, HOST_BLOCK)
    while (batch * -(-m // mt) * -(-n // nt) < HOST_BLOCKS_PER_THREAD * nthreads
           and max(mt, nt) > 16):
        if mt >= nt:
            mt = (mt + 1) // 2
        else:
            nt = (nt + 1) // 2
    bb, nn, mm = np.meshgrid(np.arange(batch), np.arange(0, n, nt), np.arange(0, m, mt),
                             indexing="ij")
    bb, nn, mm = bb.ravel(), nn.ravel(), mm.ravel()
    t = np.stack([bb, mm, np.minimum(mm + mt, m), nn, np.minimum(nn + nt, n)], 1)
    t = t.astype(np.int32)
    t.flags.writeable = False
    return t


@functools.lru_cache(maxsize=256)
def tile_shape(m: int, n: int, k: int, machine, batch: int = 1):
    """(mt, nt) for an m x n x k product: the largest near-square block within the DTCM
    budget, then halved until every core has a tile or tiles would drop below min_tile_macs."""
    budget = machine.tile_budget_bytes
    min_mac = min_tile_macs(machine)

    def need(mt, nt):
        return 2 * (mt + nt) * k + 2 * mt * nt

    if need(1, 1) > budget:
        return None
    # Largest square s with need(s, s) <= budget, in multiples of 4 where possible.
    s = int((-(4 * k) + math.sqrt(16 * k * k + 8 * budget)) / 4)
    s = max(1, s - s % 4 if s >= 4 else s)
    mt, nt = max(1, min(m, s)), max(1, min(n, s))
    while need(mt, nt) > budget:
        if mt >= nt:
            mt = max(1, mt - 1)
        else:
            nt = max(1, nt - 1)
    while (batch * math.ceil(m / mt) * math.ceil(n / nt) < machine.cores and (mt > 4 or nt > 4)
           and (mt // 2) * nt * k >= min_mac):
        if mt >= nt:
            mt = max(4, (mt + 1) // 2)
        else:
            nt = max(4, (nt + 1) // 2)
    return mt, nt


@functools.lru_cache(maxsize=256)
def _tile_grid(batch, m, n, ts, machine):
    """Tile rows (batch, m0, m1, n0, n1), their cores and sizes; cached because an eager
    program repeats the same products (the arrays are shared read-only)."""
    mt, nt = ts
    # n-major order: neighbouring tiles (which placement puts on one chip) share a slice of
    # Bt (the weights, resident) and together read all of A (the activations, multicast).
    bb, nn, mm = np.meshgrid(np.arange(batch), np.arange(0, n, nt), np.arange(0, m, mt),
                             indexing="ij")
    bb, mm, nn = bb.ravel(), mm.ravel(), nn.ravel()
    tiles = np.stack([bb, mm, np.minimum(mm + mt, m), nn, np.minimum(nn + nt, n)], 1)
    tiles = tiles.astype(np.int32)
    tm = (tiles[:, 2] - tiles[:, 1]).astype(np.int64)
    tn = (tiles[:, 4] - tiles[:, 3]).astype(np.int64)
    cores = tiling.place(len(tiles), machine)
    for a in (tiles, cores, tm, tn):
        a.flags.writeable = False
    return tiles, cores, tm, tn


def lower(a_buf, bt_buf, c_buf, *, shift: int, rounding: str, machine, op: str = "matmul"):
    """Call for C[b] = A[b] . Bt[b]^T; shapes (b?, m, k), (b?, n, k), (b?, m, n)."""
    batch = 1 if len(a_buf.shape) == 2 else a_buf.shape[0]
    m, k = a_buf.shape[-2:]
    n = bt_buf.shape[-2]
    ts = tile_shape(m, n, k, machine, batch)
    if ts is None:
        raise tiling.no_fit(op, [a_buf.shape, bt_buf.shape], 2 * (2 * k + 1),
                            machine.tile_budget_bytes,
                            "the contraction dimension is too long for one core")
    tiles, cores, tm, tn = _tile_grid(batch, m, n, ts, machine)
    return Call(kernel="gemm_q15", op=op, inputs=(a_buf, bt_buf), outputs=(c_buf,),
                params=dict(m=m, n=n, k=k, shift=shift, rounding=rounding),
                tiles=tiles, cores=cores,
                macs=tm * tn * k, elems=tm * tn, dma_in=2 * (tm + tn) * k,
                dma_out=2 * tm * tn, dtcm=2 * (tm + tn) * k + 2 * tm * tn,
                stochastic=rounding == STOCHASTIC)


@dma.describes("gemm_q15")
def plan(call, t):
    """A tile reads its A rows and Bt rows (all of k, contiguous) and writes its C block."""
    b, m0, m1, n0, n1 = (int(v) for v in call.tiles[t])
    p = call.params
    m, n, k = p["m"], p["n"], p["k"]
    bb = b if len(call.inputs[1].shape) == 3 else 0
    return dma.TilePlan((
        dma.block(dma.READ, 0, 2 * (b * m + m0) * k, 2 * (m1 - m0) * k),
        dma.block(dma.READ, 1, 2 * (bb * n + n0) * k, 2 * (n1 - n0) * k),
        dma.rows(dma.WRITE, 0, 2 * ((b * m + m0) * n + n0), m1 - m0, 2 * (n1 - n0), 2 * n)))
