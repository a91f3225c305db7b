"""matmul: lowered to gemm_q15 with k-contiguous operands (b is transposed first).

A product over a batch, x^T @ d with x (k, m) and d (k, n) row-major and k their shared
leading axis (a dense layer's weight gradient), can instead be split along k: exact int64
partials over ranges of the k rows and one combining call that rounds once, lowered as the
weight gradient of a 1x1 convolution whose pixels are the k rows (spinla/kernels/conv.py
lower_grad_weight: conv2d_gw_q15 and conv2d_gw_reduce_q15, kernels every image already has).
Each partial then reads only its rows, so a data-parallel placement can run it on the
replica holding them.  It is taken where the cost model prices it below the GEMM
(k_split_pays); the bits are the GEMM's either way (one exact sum, one rounding).
"""
from __future__ import annotations

__all__ = ["matmul"]

import functools
import math

import numpy as np

from ..array import Array
from ..fixed import INT16, Format, parse_format, result_format
from ..kernels import conv as kconv
from ..kernels import gemm
from ._core import check_rounding, machine, new_buffer, operand, run, run_lowered
from .elementwise import _range
from .manipulation import broadcast_to, matrix_transpose, reshape


def _out_fmt(a: Array, b: Array, k: int, fmt):
    """Holds every sum of k products: k * max|a| * max|b|, log2(k) more integer bits than one
    product, with max|a|, max|b| from the operands' data when known (eager), else from their
    formats (inside spinla.jit)."""
    if fmt is not None:
        return parse_format(fmt)
    if a.fmt.kind != "fixed" and b.fmt.kind != "fixed":
        return INT16
    (l1, h1, p1), (l2, h2, p2) = _data_range(a), _data_range(b)
    ps = (l1 * l2, l1 * h2, h1 * l2, h1 * h2)
    n = max(1, k)
    return result_format(n * min(ps), n * max(ps), p1 + p2)


def _data_range(a: Array):
    """The operand's range for matmul's bound: from its data's largest magnitude when the
    data is known (the bound gemm_q15 itself computes, spl_max_abs_q15, to size its exact
    int32 chunks), else (inside spinla.jit) from its format."""
    d = a.buffer.data
    if d is None or d.size == 0:
        return _range(a, False)
    m = float(np.abs(d.astype(np.int32)).max()) * 2.0 ** -a.fmt.frac
    return -m, m, (a.fmt.frac if a.fmt.kind == "fixed" else 0)


def matmul(x1, x2, /, *, fmt=None, rounding=None) -> Array:
    """x1 @ x2 in fixed point: exact integer accumulation, one rounding per output.

    The result's format defaults to the finest that holds k * max|a| * max|b| (k the inner
    dimension; max|.| from the data when it is known, from the format inside spinla.jit;
    spinla.fixed's rule), no finer than the exact products; pass fmt= to choose it.  1-d
    operands are promoted as in NumPy; batch dimensions
    broadcast."""
    a, b = operand(x1, "matmul"), operand(x2, "matmul")
    for i, t in enumerate((a, b)):
        if t.ndim == 0:
            raise ValueError(f"matmul: Input operand {i} does not have enough dimensions "
                             f"(has 0, gufunc core with signature (n?,k),(k,m?)->(n?,m?) "
                             f"requires 1)")
    mode = check_rounding("matmul", rounding)
    a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    k = a2.shape[-1]
    fo = _out_fmt(a, b, k, fmt)
    if b2.shape[-2] != k:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {b2.shape[-2]} "
                         f"is different from {k})")
    m, n = a2.shape[-2], b2.shape[-1]
    if b2.ndim == 2 and _k_split(a2, b2, a, k, m, n):
        c = _split_product(a2.buffer.origin[1], b2, fo, mode, a2.fmt.frac + b2.fmt.frac)
    elif b2.ndim == 2:
        # Fold a's batch dimensions into its rows: one 2-d product.
        lead = a2.shape[:-2]
        a3 = reshape(a2, (math.prod(lead) * m, k)) if lead else a2
        bt = matrix_transpose(b2)
        out = new_buffer((a3.shape[0], n), fo)
        c = _gemm(a3, bt, out, fo, mode)
        c = reshape(c, lead + (m, n)) if lead else c
    else:
        try:
            import numpy as np
            lead = tuple(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]))
        except ValueError:
            raise ValueError(f"matmul: operands could not be broadcast together with shapes "
                             f"{a.shape} {b.shape}") from None
        nb = math.prod(lead)
        a3 = reshape(broadcast_to(a2, lead + (m, k)), (nb, m, k))
        bt = reshape(matrix_transpose(broadcast_to(b2, lead + (k, n))), (nb, n, k))
        out = new_buffer((nb, m, n), fo)
        c = reshape(_gemm(a3, bt, out, fo, mode), lead + (m, n))
    if a.ndim == 1:
        c = reshape(c, c.shape[:-2] + (c.shape[-1],))
    if b.ndim == 1:
        c = reshape(c, c.shape[:-1])
    return c


# None: split a product over a batch along k where k_split_pays says so; True / False:
# always / never (tests compare the two).
K_SPLIT = None


def _k_split(a2: Array, b2: Array, a: Array, k: int, m: int, n: int) -> bool:
    """Whether a2 @ b2 is x^T @ d (a2 the transpose of a row-major x of k rows) to split
    along k."""
    o = a2.buffer.origin
    if a2 is not a or a2.ndim != 2 or o is None or o[0] != "T" or o[1].shape != (k, m) \
            or a2.size == 0 or b2.size == 0:
        return False
    if K_SPLIT is not None:
        return bool(K_SPLIT)
    return k_split_pays(k, m, n, machine())


@functools.lru_cache(maxsize=256)
def k_split_pays(k: int, m: int, n: int, mach) -> bool:
    """Whether the k-split of a (k, m)^T @ (k, n) product models faster on `mach` than one
    GEMM (spinla.cost, each placed model-parallel on its own; the GEMM's operand
    transposes, which the split does not need, not counted: in the GEMM's favour)."""
    from ..cost import cost_of
    from ..fixed import Format
    from ..program import Buffer, Program
    f = Format(12)
    x, d, dw = Buffer((k, 1, 1, m), f), Buffer((k, 1, 1, n), f), Buffer((1, 1, m, n), f)
    split = kconv.lower_grad_weight(x, d, None, dw, _geometry(k, m, n), shift=12,
                                    rounding="nearest", machine=mach, op="matmul")
    at, bt, c = Buffer((m, k), f), Buffer((n, k), f), Buffer((m, n), f)
    one = gemm.lower(at, bt, c, shift=12, rounding="nearest", machine=mach)
    t_split = cost_of(Program(calls=split, machine=mach, name="k_split"), mach,
                      strategy="model").time_s
    t_gemm = cost_of(Program(calls=[one], machine=mach, name="gemm"), mach,
                     strategy="model").time_s
    return t_split < t_gemm


def _geometry(k, m, n):
    """A 1x1 convolution over k one-pixel images of m channels into n."""
    return kconv.geometry(n=k, h=1, w=1, cin=m, oh=1, ow=1, cout=n, kh=1, kw=1, sy=1, sx=1,
                          pt=0, pl=0)


def _split_product(x_buf, d: Array, fo: Format, mode: str, frac_in: int) -> Array:
    """x^T @ d as exact int64 partials over ranges of the k rows and one combining call."""
    k, m = x_buf.shape
    n = d.shape[1]
    x4 = reshape(Array(x_buf), (k, 1, 1, m))
    d4 = reshape(d, (k, 1, 1, n))
    dw = new_buffer((1, 1, m, n), fo)
    calls = kconv.lower_grad_weight(x4.buffer, d4.buffer, None, dw, _geometry(k, m, n),
                                    shift=frac_in - fo.frac, rounding=mode,
                                    machine=machine(), op="matmul")
    return reshape(run(calls, [dw])[0], (m, n))


def _gemm(a: Array, bt: Array, out, fo: Format, mode: str) -> Array:
    shift = a.fmt.frac + bt.fmt.frac - fo.frac
    if a.size == 0 or bt.size == 0:
        from .creation import zeros
        return zeros(out.shape, fmt=fo)
    return run_lowered(("gemm", shift, mode), [a.buffer, bt.buffer], [out],
                       lambda: gemm.lower(a.buffer, bt.buffer, out, shift=shift, rounding=mode,
                                          machine=machine(), op="matmul"))[0]


