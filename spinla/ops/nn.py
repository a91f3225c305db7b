"""Convolution and pooling for CNNs (LeNet), in Keras' layouts: NHWC data, HWIO weights.

Every op rounds once per output after exact integer accumulation.  Gradients:

* conv2d_grad_input is the forward kernel run on delta (dilated by the stride, a zero-filled
  strided copy) with the flipped, in/out-swapped weights and padding kh-1-pt, kw-1-pl;
* conv2d_grad_weight sums im2col(x)^T @ delta exactly in int64 partials over pixel ranges, then
  adds the partials and rounds once per weight (two kernels, spinla/kernels/conv.py);
* pool gradients gather, for each input element, every window that covers it (exact sums,
  one rounding for average pooling, none for max pooling).

A channel connection `table` (cin x cout, 0/1; LeNet-5's C3 is LENET5_C3_TABLE) zeroes the
left-out weights while they are packed, so the kernels stay dense; weight gradients of
left-out connections are exactly 0.  The convolution Calls' `macs` annotation counts only the
connected MACs (the useful work, which utilisation reports divide by), while their cycle
formulas price the dense MACs the kernels execute.
"""
from __future__ import annotations

__all__ = ["conv2d", "conv2d_grad_input", "conv2d_grad_weight", "avg_pool2d", "max_pool2d",
           "avg_pool2d_grad", "max_pool2d_grad", "LENET5_C3_TABLE"]

import numbers

import numpy as np

from ..array import Array
from ..fixed import INT16, Format, parse_format
from ..kernels import conv as kconv
from ..kernels import copy as kcopy
from ..kernels import pool as kpool
from ..runtime import op_label
from ._core import check_rounding, machine, new_buffer, operand, run


def _lenet5_c3_table() -> np.ndarray:
    """LeCun et al. 1998, Table I: which S2 maps (rows) feed each C3 map (columns)."""
    groups = ([[j, j + 1, j + 2] for j in range(6)]
              + [[j, j + 1, j + 2, j + 3] for j in range(6)]
              + [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5]]
              + [list(range(6))])
    t = np.zeros((6, 16), dtype=np.int16)
    for co, ins in enumerate(groups):
        t[[i % 6 for i in ins], co] = 1
    t.setflags(write=False)
    return t


LENET5_C3_TABLE = _lenet5_c3_table()


# --- argument checks ---------------------------------------------------------------------------

def _pair(v, name, op, minimum=1):
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        v = (int(v), int(v))
    try:
        a, b = (int(t) for t in v)
        ok = all(isinstance(t, numbers.Integral) and not isinstance(t, bool) for t in v)
    except (TypeError, ValueError):
        ok = False
    if not ok or a < minimum or b < minimum:
        raise ValueError(f"{op}: {name} must be an integer >= {minimum} or a pair of them, "
                         f"got {v!r}")
    return a, b


def _rank4(a: Array, what, op):
    if a.ndim != 4:
        raise ValueError(f"{op}: {what} must be 4-d (N, H, W, C), got shape {a.shape}")


def _out_size(size, k, s, pad_mode, pad, op, shapes):
    """(output size, padding before) along one axis; pad_mode 'valid', 'same' or 'explicit'."""
    if pad_mode == "same":
        out = -(-size // s)
        return out, max((out - 1) * s + k - size, 0) // 2
    total = size + 2 * pad
    if total < k:
        raise ValueError(f"{op}: kernel size {k} exceeds the padded input size {total} "
                         f"(shapes {shapes})")
    return (total - k) // s + 1, pad


def _conv_geometry(op, n, h, w, cin, cout, kh, kw, stride, padding, shapes):
    sy, sx = _pair(stride, "stride", op)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode not in ("valid", "same"):
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or (ph, pw), "
                             f"got {padding!r}")
        ph = pw = 0
    else:
        mode = "explicit"
        ph, pw = _pair(padding, "padding", op, minimum=0)
    oh, pt = _out_size(h, kh, sy, mode, ph, op, shapes)
    ow, pl = _out_size(w, kw, sx, mode, pw, op, shapes)
    return kconv.geometry(n=n, h=h, w=w, cin=cin, oh=oh, ow=ow, cout=cout, kh=kh, kw=kw,
                          sy=sy, sx=sx, pt=pt, pl=pl)


def _grad_geometry(op, d, n, h, w, cin, cout, kh, kw, stride, padding, shapes):
    """Geometry of a convolution's backward op, and the check that the delta d has the
    forward output's shape."""
    geom = _conv_geometry(op, n, h, w, cin, cout, kh, kw, stride, padding, shapes)
    g = dict(zip("n h w cin oh ow cout kh kw sy sx pt pl".split(), geom))
    if d.shape != (n, g["oh"], g["ow"], cout):
        raise ValueError(f"{op}: delta must have shape {(n, g['oh'], g['ow'], cout)} for input "
                         f"{(n, h, w, cin)} and kernel {(kh, kw, cin, cout)}, got {d.shape}")
    return geom, g


def _table(table, cin, cout, op):
    """(buffer or None, connected K-entries per output channel or None) of a 0/1 table."""
    if table is None:
        return None, None
    if isinstance(table, Array):
        if table.shape != (cin, cout):
            raise ValueError(f"{op}: table must have shape (cin, cout) = {(cin, cout)}, got "
                             f"{table.shape}")
        d = table.buffer.data
        return table.buffer, None if d is None else np.count_nonzero(d, axis=0)
    t = np.asarray(table)
    if t.shape != (cin, cout):
        raise ValueError(f"{op}: table must have shape (cin, cout) = {(cin, cout)}, got "
                         f"{t.shape}")
    if t.dtype.kind not in "biuf" or not np.all((t == 0) | (t == 1)):
        raise ValueError(f"{op}: table must hold 0/1 (or bool) connection flags")
    from ._core import asarray
    tb = asarray(t.astype(np.int16), fmt=INT16, op=op).buffer
    return tb, np.count_nonzero(t, axis=0)


def _coarser(a: Array, b: Array, fmt) -> Format:
    return parse_format(fmt) if fmt is not None else Format(min(a.fmt.frac, b.fmt.frac))


def _pack(w: Array, table_buf, flip: bool, op: str):
    kh, kw, cin, cout = w.shape
    rows, k = (cin, kh * kw * cout) if flip else (cout, kh * kw * cin)
    out = new_buffer((rows, kconv.k_stride(k)), w.fmt)
    return out, kconv.lower_pack(w.buffer, table_buf, out, flip=flip, machine=machine(), op=op)


def _whole_input(g, table_buf) -> bool:
    """A valid, unpadded kernel as large as the input, without a connection table: the
    convolution is one dot product per (image, output channel)."""
    return (table_buf is None and g["oh"] == 1 and g["ow"] == 1 and g["pt"] == 0
            and g["pl"] == 0 and g["kh"] == g["h"] and g["kw"] == g["w"])


def _zeros(shape, fo):
    from .creation import zeros
    return zeros(shape, fmt=fo)


# --- convolution -------------------------------------------------------------------------------

def conv2d(x, w, /, *, stride=1, padding="valid", table=None, fmt=None, rounding=None) -> Array:
    """2-D convolution (cross-correlation, as Keras' Conv2D): x (N, H, W, Cin), w (kh, kw, Cin,
    Cout) -> (N, OH, OW, Cout).

    padding: 'valid', 'same' (Keras: OH = ceil(H / stride), the extra row/column at the
    bottom/right), an int or (ph, pw) of zeros on both sides.  table: optional (Cin, Cout) 0/1
    channel connections.  Exact integer accumulation, one rounding per output; the format
    defaults to the coarser of x's and w's (as matmul)."""
    op = "conv2d"
    x, w = operand(x, op), operand(w, op)
    _rank4(x, "input x", op)
    if w.ndim != 4:
        raise ValueError(f"{op}: kernel w must be 4-d (kh, kw, Cin, Cout), got shape {w.shape}")
    n, h, wd, cin = x.shape
    kh, kw, wcin, cout = w.shape
    shapes = [x.shape, w.shape]
    if wcin != cin:
        raise ValueError(f"{op}: input has {cin} channels but the kernel expects {wcin} "
                         f"(x shape {x.shape}, w shape {w.shape})")
    geom = _conv_geometry(op, n, h, wd, cin, cout, kh, kw, stride, padding, shapes)
    table_buf, connected = _table(table, cin, cout, op)
    mode = check_rounding(op, rounding)
    fo = _coarser(x, w, fmt)
    g = dict(zip("n h w cin oh ow cout kh kw sy sx pt pl".split(), geom))
    out_shape = (n, g["oh"], g["ow"], cout)
    if 0 in out_shape or kh * kw * cin == 0:
        return _zeros(out_shape, fo)
    if _whole_input(g, table_buf):
        # The kernel covers the whole image (LeNet-5's C5): a plain matrix product, the same
        # exact sums and output indices as the convolution, without im2col.
        from .linalg import matmul
        from .manipulation import reshape
        with op_label(op):
            y = matmul(reshape(x, (n, h * wd * cin)), reshape(w, (kh * kw * cin, cout)),
                       fmt=fo, rounding=mode)
            return reshape(y, out_shape)
    wt, pack = _pack(w, table_buf, False, op)
    y = new_buffer(out_shape, fo)
    conn = None if connected is None else np.asarray(connected) * kh * kw
    call = kconv.lower_conv(x.buffer, wt, y, geom, shift=x.fmt.frac + w.fmt.frac - fo.frac,
                            rounding=mode, machine=machine(), op=op, connected=conn)
    return run([pack, call], [y])[0]


def _dilate(d: Array, sy: int, sx: int, op: str):
    """delta with sy - 1 zero rows between rows and sx - 1 zero columns between columns: a
    zero fill plus one strided copy."""
    n, oh, ow, c = d.shape
    hd, wd = (oh - 1) * sy + 1, (ow - 1) * sx + 1
    out = new_buffer((n, hd, wd, c), d.fmt)
    dst = (hd * wd * c, sy * wd * c, sx * c, 1)
    pc = kcopy.piece(0, d.shape, dst_strides=dst)
    return out, kcopy.lower([d.buffer], out, [pc], machine=machine(), op=op, fill=0)


def _shape4(s, what, op):
    try:
        s = tuple(int(v) for v in s)
    except TypeError:
        raise ValueError(f"{op}: {what} must be a tuple of 4 ints, got {s!r}") from None
    if len(s) != 4 or min(s) < 0:
        raise ValueError(f"{op}: {what} must be a tuple of 4 non-negative ints, got {s!r}")
    return s


def conv2d_grad_input(delta, w, input_shape, *, stride=1, padding="valid", table=None,
                      fmt=None, rounding=None) -> Array:
    """Gradient of conv2d with respect to its input: delta (N, OH, OW, Cout) and w (kh, kw,
    Cin, Cout) -> (N, H, W, Cin) = input_shape.  Format defaults to the coarser of delta's and
    w's."""
    op = "conv2d_grad_input"
    d, w = operand(delta, op), operand(w, op)
    _rank4(d, "delta", op)
    if w.ndim != 4:
        raise ValueError(f"{op}: kernel w must be 4-d (kh, kw, Cin, Cout), got shape {w.shape}")
    n, h, wd, cin = _shape4(input_shape, "input_shape", op)
    kh, kw, wcin, cout = w.shape
    shapes = [d.shape, w.shape, (n, h, wd, cin)]
    if wcin != cin:
        raise ValueError(f"{op}: input_shape has {cin} channels but the kernel expects {wcin} "
                         f"(shapes {shapes})")
    geom, g = _grad_geometry(op, d, n, h, wd, cin, cout, kh, kw, stride, padding, shapes)
    table_buf, _ = _table(table, cin, cout, op)
    conn = None
    if table_buf is not None and table_buf.data is not None:
        conn = np.count_nonzero(table_buf.data, axis=1) * kh * kw   # per input channel
    mode = check_rounding(op, rounding)
    fo = _coarser(d, w, fmt)
    if 0 in (n, h, wd, cin) or d.size == 0 or kh * kw * cout == 0:
        return _zeros((n, h, wd, cin), fo)
    if _whole_input(g, table_buf):
        from .linalg import matmul
        from .manipulation import matrix_transpose, reshape
        with op_label(op):
            w2 = reshape(w, (kh * kw * cin, cout))
            dx = matmul(reshape(d, (n, cout)), matrix_transpose(w2), fmt=fo, rounding=mode)
            return reshape(dx, (n, h, wd, cin))
    calls, src = [], d.buffer
    sy, sx = g["sy"], g["sx"]
    hd, wdd = (g["oh"] - 1) * sy + 1, (g["ow"] - 1) * sx + 1
    if sy > 1 or sx > 1:
        src, dil = _dilate(d, sy, sx, op)
        calls.append(dil)
    wt, pack = _pack(w, table_buf, True, op)
    calls.append(pack)
    geom2 = kconv.geometry(n=n, h=hd, w=wdd, cin=cout, oh=h, ow=wd, cout=cin, kh=kh, kw=kw,
                           sy=1, sx=1, pt=kh - 1 - g["pt"], pl=kw - 1 - g["pl"])
    dx = new_buffer((n, h, wd, cin), fo)
    calls.append(kconv.lower_conv(src, wt, dx, geom2, shift=d.fmt.frac + w.fmt.frac - fo.frac,
                                  rounding=mode, machine=machine(), op=op, connected=conn))
    return run(calls, [dx])[0]


def conv2d_grad_weight(x, delta, kernel_shape, *, stride=1, padding="valid", table=None,
                       fmt=None, rounding=None) -> Array:
    """Gradient of conv2d with respect to its weights: x (N, H, W, Cin), delta (N, OH, OW,
    Cout) -> (kh, kw, Cin, Cout); kernel_shape is (kh, kw) or (kh, kw, Cin, Cout).  Summed
    exactly over all N * OH * OW pixels, rounded once per weight; entries the table leaves
    out are exactly 0.  Format defaults to the coarser of x's and delta's."""
    op = "conv2d_grad_weight"
    x, d = operand(x, op), operand(delta, op)
    _rank4(x, "input x", op)
    _rank4(d, "delta", op)
    n, h, wd, cin = x.shape
    cout = d.shape[3]
    try:
        ks = tuple(int(v) for v in kernel_shape)
    except TypeError:
        raise ValueError(f"{op}: kernel_shape must be (kh, kw) or (kh, kw, Cin, Cout), got "
                         f"{kernel_shape!r}") from None
    if len(ks) not in (2, 4) or min(ks) < 1:
        raise ValueError(f"{op}: kernel_shape must be (kh, kw) or (kh, kw, Cin, Cout) of "
                         f"positive ints, got {kernel_shape!r}")
    kh, kw = ks[:2]
    shapes = [x.shape, d.shape, ks]
    if len(ks) == 4 and ks[2:] != (cin, cout):
        raise ValueError(f"{op}: kernel_shape {ks} does not match Cin = {cin} of x and "
                         f"Cout = {cout} of delta (shapes {shapes})")
    geom, g = _grad_geometry(op, d, n, h, wd, cin, cout, kh, kw, stride, padding, shapes)
    table_buf, connected = _table(table, cin, cout, op)
    mode = check_rounding(op, rounding)
    fo = _coarser(x, d, fmt)
    if x.size == 0 or d.size == 0:
        return _zeros((kh, kw, cin, cout), fo)
    if _whole_input(g, table_buf):
        # The kernel covers the whole image (LeNet-5's C5): dW = x^T @ delta over the N
        # images, a plain matrix product with the same exact sums and one rounding per weight.
        # matmul then picks the GEMM (every weight's sum on one core: no partials cross the
        # links) or the k-split into partials, whichever the cost model prices lower.
        from .linalg import matmul
        from .manipulation import matrix_transpose, reshape
        with op_label(op):
            k = kh * kw * cin
            dw2 = matmul(matrix_transpose(reshape(x, (n, k))), reshape(d, (n, cout)), fmt=fo,
                         rounding=mode)
            return reshape(dw2, (kh, kw, cin, cout))
    dw = new_buffer((kh, kw, cin, cout), fo)
    calls = kconv.lower_grad_weight(x.buffer, d.buffer, table_buf, dw, geom,
                                    shift=x.fmt.frac + d.fmt.frac - fo.frac, rounding=mode,
                                    machine=machine(), op=op,
                                    connected=None if connected is None
                                    else np.asarray(connected) * kh * kw)
    return run(calls, [dw])[0]


# --- pooling -----------------------------------------------------------------------------------

def _pool_geometry(op, shape, pool_size, strides):
    n, h, w, c = shape
    kh, kw = _pair(pool_size, "pool_size", op)
    sy, sx = _pair(pool_size if strides is None else strides, "strides", op)
    if kh * kw > 32767:
        raise ValueError(f"{op}: pool window {kh}x{kw} is larger than 32767 elements")
    if h < kh or w < kw:
        raise ValueError(f"{op}: pool window {(kh, kw)} is larger than the input's spatial "
                         f"size {(h, w)} (shape {tuple(shape)})")
    oh, ow = (h - kh) // sy + 1, (w - kw) // sx + 1
    return kpool.geometry(n=n, h=h, w=w, c=c, oh=oh, ow=ow, kh=kh, kw=kw, sy=sy, sx=sx)


def avg_pool2d(x, pool_size=2, strides=None, fmt=None, rounding=None) -> Array:
    """Average pooling (Keras AveragePooling2D, valid windows): x (N, H, W, C) -> (N, OH, OW,
    C).  The window sum is exact; dividing by kh * kw is a multiply by an integer reciprocal
    and one rounding: exact for power-of-two windows (2x2 is a shift by 2), otherwise within
    one rounding plus 2^-16 LSB of the exact mean.  Keeps x's format unless fmt is given."""
    op = "avg_pool2d"
    x = operand(x, op)
    _rank4(x, "input x", op)
    geom = _pool_geometry(op, x.shape, pool_size, strides)
    mode = check_rounding(op, rounding)
    fo = parse_format(fmt) if fmt is not None else x.fmt
    n, _, _, c, oh, ow, kh, kw = geom[:8]
    if x.size == 0:
        return _zeros((n, oh, ow, c), fo)
    mult, s = kpool.reciprocal(kh * kw)
    y = new_buffer((n, oh, ow, c), fo)
    call = kpool.lower_forward(x.buffer, (y,), geom, kind="avg", machine=machine(), op=op,
                               mult=mult, shift=s + x.fmt.frac - fo.frac, rounding=mode)
    return run([call], [y])[0]


def max_pool2d(x, pool_size=2, strides=None, return_indices=False):
    """Max pooling (Keras MaxPooling2D, valid windows): x (N, H, W, C) -> values (N, OH, OW, C)
    in x's format, and with return_indices the int16 window offset ky * kw + kx of each
    maximum (the first one in row-major window order on ties)."""
    op = "max_pool2d"
    x = operand(x, op)
    _rank4(x, "input x", op)
    geom = _pool_geometry(op, x.shape, pool_size, strides)
    n, _, _, c, oh, ow = geom[:6]
    if x.size == 0:
        y, i = _zeros((n, oh, ow, c), x.fmt), _zeros((n, oh, ow, c), INT16)
        return (y, i) if return_indices else y
    y = new_buffer((n, oh, ow, c), x.fmt)
    idx = new_buffer((n, oh, ow, c), INT16)
    call = kpool.lower_forward(x.buffer, (y, idx), geom, kind="max", machine=machine(), op=op)
    ya, ia = run([call], [y, idx])
    return (ya, ia) if return_indices else ya


def _pool_grad_check(op, d: Array, input_shape, pool_size, strides):
    _rank4(d, "delta", op)
    shape = _shape4(input_shape, "input_shape", op)
    geom = _pool_geometry(op, shape, pool_size, strides)
    n, _, _, c, oh, ow = geom[:6]
    if d.shape != (n, oh, ow, c):
        raise ValueError(f"{op}: delta must have shape {(n, oh, ow, c)} for input_shape "
                         f"{shape}, got {d.shape}")
    return shape, geom


def avg_pool2d_grad(delta, input_shape, pool_size=2, strides=None, fmt=None,
                    rounding=None) -> Array:
    """Gradient of avg_pool2d: each input element gets the sum of delta / (kh * kw) over the
    windows covering it (exact sum, one rounding; exact for power-of-two windows that do not
    overlap); elements no window covers get 0.  Keeps delta's format unless fmt is given."""
    op = "avg_pool2d_grad"
    d = operand(delta, op)
    shape, geom = _pool_grad_check(op, d, input_shape, pool_size, strides)
    mode = check_rounding(op, rounding)
    fo = parse_format(fmt) if fmt is not None else d.fmt
    if d.size == 0 or 0 in shape:
        return _zeros(shape, fo)
    kh, kw = geom[6:8]
    mult, s = kpool.reciprocal(kh * kw)
    dx = new_buffer(shape, fo)
    call = kpool.lower_grad((d.buffer,), dx, geom, kind="avg", machine=machine(), op=op,
                            mult=mult, shift=s + d.fmt.frac - fo.frac, rounding=mode)
    return run([call], [dx])[0]


def max_pool2d_grad(delta, indices, input_shape, pool_size=2, strides=None) -> Array:
    """Gradient of max_pool2d: delta routed to each window's argmax (indices from
    max_pool2d(..., return_indices=True)); overlapping windows add exactly (saturation, if
    any, is counted).  Keeps delta's format."""
    op = "max_pool2d_grad"
    d, idx = operand(delta, op), operand(indices, op)
    shape, geom = _pool_grad_check(op, d, input_shape, pool_size, strides)
    if idx.shape != d.shape:
        raise ValueError(f"{op}: indices must have delta's shape {d.shape}, got {idx.shape}")
    if idx.fmt.kind == "fixed" and idx.fmt.frac != 0:
        raise TypeError(f"{op}: indices must be int16 window offsets (max_pool2d's "
                        f"return_indices), got format {idx.fmt.name}")
    if d.size == 0 or 0 in shape:
        return _zeros(shape, d.fmt)
    dx = new_buffer(shape, d.fmt)
    call = kpool.lower_grad((d.buffer, idx.buffer), dx, geom, kind="max", machine=machine(),
                            op=op)
    return run([call], [dx])[0]
