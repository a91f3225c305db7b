"""What the AVX2 and AVX-512 Adam tests share (tests/test_adam_avx2.py,
tests/test_adam_avx512.py): the C that exposes the portable loop beside arm_adam_q15 (whose
host hook is the path under test), its cdef, test data, and the bit-for-bit comparison."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

import cbuild

# Appended to `#include "optim_q15.c"` and a guard that the build took the intended hook.
PORTABLE_C = r"""
/* The portable loop itself, which arm_adam_q15 (its host hook) must equal. */
uint32_t test_adam_portable(const q15_t *w, const q15_t *g, const q15_t *m, const q15_t *r,
                            q15_t lr, q15_t *w_out, q15_t *m_out, q15_t *r_out, int32_t n,
                            const spl_adam_t *p, uint32_t index0)
{
    return p->mode == SPL_ROUND_STOCHASTIC
        ? adam_loop(w, g, m, r, lr, w_out, m_out, r_out, n, p, index0, 0)
        : adam_loop(w, g, m, r, lr, w_out, m_out, r_out, n, p, index0, 1);
}
"""
CDEF = """
typedef struct {
    int32_t beta1, beta2; int64_t eps; int32_t ratio_max; int32_t w_shift; int32_t g_shift;
    int32_t mode; uint32_t seed_w, seed_m, seed_r;
} spl_adam_t;
uint32_t arm_adam_q15(const int16_t *w, const int16_t *g, const int16_t *m, const int16_t *r,
                      int16_t lr, int16_t *w_out, int16_t *m_out, int16_t *r_out, int32_t n,
                      const spl_adam_t *p, uint32_t index0);
uint32_t test_adam_portable(const int16_t *w, const int16_t *g, const int16_t *m,
                            const int16_t *r, int16_t lr, int16_t *w_out, int16_t *m_out,
                            int16_t *r_out, int32_t n, const spl_adam_t *p, uint32_t index0);
"""

# Betas that are multiples of 2^28 put the moments exactly on rounding ties; 2^30 is the top
# of the range the fast paths' 32-bit split of b1 accepts.
BETA = st.one_of(st.integers(0, 2**30 - 1), st.sampled_from([0, 2**28, 2**29, 3 * 2**28, 2**30]))


def data(rng, n, kind):
    if kind == "full":
        return rng.integers(-32768, 32768, n).astype(np.int16)
    if kind == "edges":
        return rng.choice(np.array([-32768, -32767, -1, 0, 1, 32766, 32767], np.int16), n)
    if kind == "zero":
        return np.zeros(n, np.int16)
    return rng.integers(-300, 301, n).astype(np.int16)


def run_both(ffi, lib, arrays, lr, n, params, index0):
    """[(saturations, [w', m', r'])] of the portable loop, then of arm_adam_q15; each output
    has three halfwords of padding past n that must stay untouched."""
    p = ffi.new("spl_adam_t *", params)
    res = []
    for fn in (lib.test_adam_portable, lib.arm_adam_q15):
        outs = [np.full(n + 3, 12345, np.int16) for _ in range(3)]
        ptr = [ffi.from_buffer("int16_t[]", a) for a in (*arrays, *outs)]
        res.append((fn(*ptr[:4], lr, *ptr[4:], n, p, index0), outs))
    return res


def assert_same(res):
    (sat0, outs0), (sat1, outs1) = res
    for name, a, b in zip(("w'", "m'", "r'"), outs0, outs1):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert sat0 == sat1


def build(tmp_path_factory, name: str, harness: str, cdef: str, flags, runs_here: bool, why: str):
    """(ffi, lib) of the harness C (`harness`: optim_q15.c, a guard, PORTABLE_C ...) built
    with `flags`; skipped with `why` where this CPU cannot run it."""
    if not runs_here:
        pytest.skip(why)
    d = tmp_path_factory.mktemp(name)
    src = d / f"{name}_harness.c"
    src.write_text(harness)
    return cbuild.build(d, name, flags, [str(src), "requant_q15.c", "rng_q15.c"], cdef)
