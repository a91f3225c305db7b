"""Fixed-point numbers: the one place where spinla's number format is defined.

Design
------
Every array is stored as 16-bit two's complement integers (`q15` storage) together with a
count of fractional bits ``frac`` (0..15) that belongs to the array, not to the element:
value = int16 * 2**-frac.  Format ``Qm.f`` has m = 15 - frac integer bits and range
[-2**m, 2**m - 2**-f].  A per-array ``frac`` (dynamic fixed point) rather than one global
format is what lets 16 bits train a network: pixels, weights, pre-activations and gradients
live at different scales (Gupta et al. 2015, arXiv 1502.02551; SpiNNaker_PDP2 uses separate
formats for weights, activations and deltas for the same reason).  Formats are static: an op's
output format is decided when it is lowered, so a traced Program runs many times with the same
shifts, exactly as the SpiNNaker binary would.

Arithmetic
----------
Kernels multiply q15 by q15 into exact 32-bit products and sum them exactly (int32 chunks
proven not to overflow, added in int64; see spinla_c/gemm_q15.c).  The only inexact step is
the final requantisation of each output to its q15 format:

* ``nearest``: round to nearest, ties to even.  |error| <= 2**-(f+1), and unbiased on ties
  (exact halves, e.g. x * 0.5 of integers, go up and down equally often; round-half-up made
  the sum of 9 M such products 29 % high).
* ``stochastic``: add a uniform random integer below the dropped LSBs, floor.  Unbiased
  (E[error] = 0), |error| < 2**-f.  Needed for small updates (weight += lr * grad), which
  round-to-nearest would drop (Gupta et al. 2015).  The random bits are a hash of
  (seed, element index) (spinla_c/rng_q15.c), so they do not depend on tiling or placement.

Output formats: from ranges
---------------------------
Unless ``fmt=`` says otherwise, every op gives its result the finest format that holds every
value its operands' formats can produce, but no more fractional bits than the exact result
has (`result_frac`).  The range of an operand is its format's range ([-2**m, 2**m - 2**-f]);
a weak scalar (a Python ``int``, ``float`` or ``bool``, NEP 50) contributes its own value, and
an integer or boolean array with known data contributes the range of that data (inside
spinla.jit, where data is unknown, the whole int16 range).  Hence:

* ``+``/``-`` gain one integer bit (q0.15 + q0.15 -> q1.14); ``*`` adds the integer bits of
  both operands (q3.12 * q3.12 -> q7.8; ``a * 10`` of q0.15 -> q4.11); ``x ** n`` is a chain
  of products; ``square`` doubles the integer bits.
* ``sum``/``mean``/``matmul`` over n terms gain ceil(log2 n) integer bits (``mean`` none: a
  mean stays within its inputs' range); matmul holds k * max|a| * max|b|.
* division by a scalar c holds range/c with up to 15 fractional bits
  (``asarray(pixels_uint8) / 255`` -> q1.14); division by an array keeps the numerator's
  integer bits (exact for integer divisors; |divisor| < 1 can saturate, counted).
* ``maximum``/``minimum``/``where``/``clip``/``concat`` hold the union of their operands'
  ranges (an integer array mixed with a fixed-point one promotes to fixed point, as NumPy
  promotes int to float); ``negative``/``abs`` keep the format (only -2**m saturates).
* all-integer operands give INT16 (NumPy's integer arithmetic; beyond +-32767 saturates,
  counted), except true division, which gives a fixed-point result.  Booleans stay BOOL
  in maximum/minimum/where.
* NumPy scalars are arrays of their dtype, not weak: ``a + np.float64(100)`` holds 100.

A weak float scalar is itself a 16-bit constant in the finest format holding it (0.1 becomes
3277 * 2**-15), so ``x * c`` is within half an output LSB of x times the *quantised* c; the
constant's own error, at most |x| * 2**-(f_c + 1), adds to that (``np.arange(10) * 0.1`` is
off by up to 9 * 2**-16).  The matmul data-driven bound and an integer array's data range are
known only in eager execution; inside spinla.jit the formats' ranges stand in for them.

When no 16-bit format can hold the range (more than 15 integer bits), the result is q15.0
and values beyond it saturate, counted and reported.

Losses: saturation, underflow, rounding
---------------------------------------
A result beyond the format's range is clamped to it.  This is never silent: every kernel
returns the number of clamped outputs, the runtime adds them to `spinla.stats()` under the
op's name, and `spinla.errstate(saturate=...)` says what else happens: 'warn' (default; a
`SaturationWarning` per call site, Python's warning rules), 'raise' or 'ignore'.  Host data
entering the machine (asarray, full, pad's fill) also counts values rounded (inexact) and
values that underflowed to zero (nonzero, smaller than half an LSB; errstate(underflow=...));
NaN and infinity are 'invalid' (default 'raise').

Error bound of a matmul/convolution output: the exact sum is rounded once, so the fixed-point
result differs from the exact product of the *quantised* inputs by at most one rounding step
(above); the difference from the float64 product of the unquantised inputs adds the input
quantisation error, at most sum_k (|a_k| * e_b + |b_k| * e_a + e_a * e_b) with e = 2**-(f+1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

QMIN = -32768
QMAX = 32767
BITS = 16

NEAREST = "nearest"
STOCHASTIC = "stochastic"
ROUNDING_MODES = {NEAREST: 0, STOCHASTIC: 1}


@dataclass(frozen=True)
class Format:
    """A q15 format: 16-bit storage with `frac` fractional bits.

    kind is "fixed" for real numbers, "int" for small integers such as indices (frac 0), and
    "bool" for 0/1 results of comparisons.
    """

    frac: int
    kind: str = "fixed"

    def __post_init__(self):
        if not isinstance(self.frac, (int, np.integer)) or not 0 <= self.frac <= 15:
            raise ValueError(f"fractional bits must be an integer in 0..15, got {self.frac!r}")
        if self.kind not in ("fixed", "int", "bool"):
            raise ValueError(f"format kind must be fixed, int or bool, got {self.kind!r}")
        if self.kind != "fixed" and self.frac != 0:
            raise ValueError(f"{self.kind} formats have no fractional bits")

    @property
    def name(self) -> str:
        if self.kind != "fixed":
            return self.kind + "16"
        return f"q{15 - self.frac}.{self.frac}"

    @property
    def scale(self) -> float:
        """The value of one LSB."""
        return 2.0 ** -self.frac

    @property
    def max(self) -> float:
        return QMAX * self.scale

    @property
    def min(self) -> float:
        return QMIN * self.scale

    def __repr__(self) -> str:
        return f"spinla.{self.name}" if self.kind == "fixed" else f"spinla.{self.kind}16"

    __str__ = __repr__


def q(frac: int) -> Format:
    """Format with `frac` fractional bits (q(12) is Q3.12)."""
    return Format(int(frac))


INT16 = Format(0, "int")
BOOL = Format(0, "bool")


def parse_format(fmt) -> Format:
    """Accept a Format, a frac count, or a name such as "q3.12" / "Q3.12"."""
    if isinstance(fmt, Format):
        return fmt
    if isinstance(fmt, (int, np.integer)) and not isinstance(fmt, bool):
        return Format(int(fmt))
    if isinstance(fmt, str):
        s = fmt.strip().lower()
        if s in ("int16", "int"):
            return INT16
        if s == "bool":
            return BOOL
        if s.startswith("q") and "." in s:
            ib, fb = s[1:].split(".", 1)
            if ib.isdigit() and fb.isdigit() and int(ib) + int(fb) == 15:
                return Format(int(fb))
    raise TypeError(f"not a spinla fixed-point format: {fmt!r} (use spinla.q(frac), "
                    f"a frac count 0..15, or a name like 'q3.12')")


def frac_for(max_abs: float, headroom: float = 1.0) -> int:
    """Largest frac whose range holds max_abs * headroom (15 when everything is tiny)."""
    m = float(max_abs) * headroom
    if not math.isfinite(m):
        raise ValueError("cannot choose a format for a non-finite magnitude")
    if m <= QMAX * 2.0 ** -15:
        return 15   # also denormals, where QMAX / m would overflow
    # need QMAX * 2^-f >= m  ->  f <= log2(QMAX / m)
    f = math.floor(math.log2(QMAX / m))
    return int(min(15, max(0, f)))


def frac_for_range(lo: float, hi: float) -> int:
    """Largest frac (0..15) whose range [QMIN 2^-f, QMAX 2^-f] holds [lo, hi]; 0 when none
    does (the values beyond q15.0 then saturate, counted)."""
    lo, hi = float(lo), float(hi)
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError("cannot choose a format for NaN")
    for f in range(15, -1, -1):
        if QMIN * 2.0 ** -f <= lo and hi <= QMAX * 2.0 ** -f:
            return f
    return 0


def value_range(fmt: Format) -> tuple:
    """(lo, hi): every value a format can hold."""
    if fmt.kind == "bool":
        return 0.0, 1.0
    return fmt.min, fmt.max


def result_format(lo: float, hi: float, exact_frac: int) -> Format:
    """The default output format of an op whose results lie in [lo, hi] and are exact with
    exact_frac fractional bits: the finest that holds the range, no finer than needed."""
    return Format(int(min(15, max(0, exact_frac), frac_for_range(lo, hi))))


def quantize(x: np.ndarray, fmt: Format, rounding: str = NEAREST, seed: int = 0,
             losses: dict | None = None):
    """Float -> q15 on the host (data entering the machine).

    Returns (int16 array, number of saturated elements).  Nearest rounds half to even, as
    the kernels do; stochastic uses the kernels' hash bits (see spinla.fixed.rand_u32), so
    host-side conversion is reproducible too.  If `losses` is a dict, the counts of values
    rounded (inexact) and underflowed (nonzero -> 0) are stored in it.
    """
    x = np.asarray(x, dtype=np.float64)
    scaled = np.ldexp(x, fmt.frac)   # exact: a power-of-two scaling
    if rounding == NEAREST:
        r = np.rint(scaled)          # IEEE round half to even
    elif rounding == STOCHASTIC:
        u = rand_u32(seed, np.arange(x.size, dtype=np.uint32)).reshape(x.shape)
        r = np.floor(scaled + u / 2.0**32)
    else:
        raise ValueError(f"unknown rounding mode {rounding!r}; use 'nearest' or 'stochastic'")
    over = (r > QMAX) | (r < QMIN)
    sat = int(np.count_nonzero(over))
    if losses is not None:
        inexact = (r != scaled) & ~over
        losses["rounded"] = int(np.count_nonzero(inexact))
        losses["underflowed"] = int(np.count_nonzero(inexact & (r == 0)))
    return np.clip(r, QMIN, QMAX).astype(np.int16), sat


def dequantize(data: np.ndarray, fmt: Format) -> np.ndarray:
    if fmt.kind == "bool":
        return data.astype(bool)
    if fmt.kind == "int":
        return data.astype(np.int64)
    return np.ldexp(data.astype(np.float64), -fmt.frac)


def rand_u32(seed: int, index: np.ndarray) -> np.ndarray:
    """NumPy twin of spl_rand_u32 (spinla_c/rng_q15.c), for host-side conversion and tests."""
    with np.errstate(over="ignore"):
        x = (np.uint32(seed & 0xFFFFFFFF) + index.astype(np.uint32) * np.uint32(0x9E3779B9))
        x = x.astype(np.uint32)
        x ^= x << np.uint32(13)
        x ^= x >> np.uint32(17)
        x ^= x << np.uint32(5)
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
    return x
