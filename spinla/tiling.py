"""Shared helpers for splitting an op into DTCM-sized tiles and placing tiles on cores."""
from __future__ import annotations

import math

import numpy as np


class TilingError(ValueError):
    """No tiling of an op fits a core's DTCM budget."""


def no_fit(op: str, shapes, need: int, budget: int, hint: str = "") -> TilingError:
    shp = ", ".join(str(tuple(s)) for s in shapes)
    return TilingError(f"{op}: no tiling of shapes {shp} fits a core's DTCM budget: the "
                       f"smallest tile needs {need} bytes, the budget is {budget} bytes "
                       f"(64 KB DTCM less the reserve){'; ' + hint if hint else ''}")


def split(n: int, parts: int, align: int = 1):
    """Boundaries splitting range(n) into at most `parts` nearly equal pieces whose interior
    boundaries are multiples of `align`."""
    parts = max(1, min(parts, math.ceil(n / align) if n else 1))
    step = math.ceil(n / parts / align) * align if n else 1
    b = list(range(0, n, step)) + [n]
    return np.asarray(b if n else [0, 0], dtype=np.int64)


def aligned_ranges(n: int, per: int, row: int = 0):
    """(starts, stops) of ranges of at most `per` of n elements, laid out as n // row rows of
    `row` (0: no rows) so that no range crosses a row boundary it need not: a row longer than
    `per` is split into near-equal ranges, shorter rows are grouped by a power of two of them.
    A data-parallel replica's batch slice (a power-of-two share of the rows, spinla.place)
    is then a whole number of ranges.  Without rows, ranges of `per` from 0."""
    per = max(1, int(per))
    if row <= 0 or n % row or n == 0:
        b = np.arange(0, n, per, dtype=np.int64)
        return b, np.minimum(b + per, n)
    rows = n // row
    if per >= row:
        q = 1 << int(math.log2(per // row))
        b = np.arange(0, rows, q, dtype=np.int64) * row
        return b, np.minimum(b + q * row, n)
    k = -(-row // per)
    within = (row * np.arange(k + 1, dtype=np.int64)) // k
    base = np.arange(rows, dtype=np.int64)[:, None] * row
    return (base + within[None, :-1]).ravel(), (base + within[None, 1:]).ravel()


def place(ntiles: int, machine) -> np.ndarray:
    """Core ids for tiles: round-robin over every application core, chip by chip, so a call
    with fewer tiles than cores uses one tile per core and more tiles queue evenly."""
    return (np.arange(ntiles, dtype=np.int64) % machine.cores).astype(np.int32)


def flat_tiles(n: int, machine, bytes_per_elem: int, min_elems: int = 256, row: int = 0):
    """Tiles over a flat range of n elements: each at most what fits the DTCM budget (with
    double buffering), at least min_elems unless n is smaller, spread over the cores; with
    `row` (elements per row of the leading axis, a batch's sample), aligned to rows as
    aligned_ranges says.  Returns (tiles (k, 2) int32 [e0, e1), cores)."""
    budget = machine.tile_budget_bytes
    cap = max(1, budget // (2 * bytes_per_elem))
    want = max(1, min(machine.cores, math.ceil(n / min_elems)))
    per = max(1, min(cap, math.ceil(n / want)))
    b, e = aligned_ranges(n, per, row)
    tiles = np.stack([b, e], axis=1) if n else np.zeros((1, 2), np.int64)
    return tiles.astype(np.int32), place(len(tiles), machine)
