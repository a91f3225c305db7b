"""The host's path for element-wise calls over boxes of short rows (spinla_c/host/
eltwise_host.inc, run by host/run_eltwise.c: the conv bias add) against arm_eltwise_q15 (the
-DSPL_PORTABLE build of the same runner), bit for bit: outputs and saturation counts for
every op, operands that are contiguous, repeat by rows, are constant or absent, in either
position, rows of 1..64 values (and longer ones, which the kernel takes), both rounding
modes, tiles that start and end inside rows, and shifts that saturate.  Native build (AVX-512
where the CPU has it) and the AVX2 build (-march=x86-64-v3)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbuild
from spinla.kernels.eltwise import OPS

# The host builds run OpenMP teams of this many threads (the portable one a single thread):
# the outputs must not depend on how the tiles are shared out.
THREADS = 4
SOURCES = ("host/run_eltwise.c", "eltwise_q15.c", "requant_q15.c", "rng_q15.c",
           "host/simd_path.c")
CDEF = """
uint64_t spl_run_eltwise(const int64_t *params, uint32_t seed, const int16_t *a,
                         const int32_t *sa, const int16_t *b, const int32_t *sb,
                         const int16_t *c, const int32_t *sc, int16_t *y, const int32_t *shape,
                         int32_t ndim, const int32_t *tiles, int32_t ntiles, int32_t nthreads);
const char *spl_simd_path(void);
"""
# Operand layouts over a (rows, cols) box: strides, and the shape of the data they index.
LAYOUTS = {"contig": lambda r, c: ((c, 1), (r, c)), "rows": lambda r, c: ((0, 1), (c,)),
           "rows2": lambda r, c: ((0, 2), (2 * c,)), "const": lambda r, c: ((0, 0), (1,))}


@pytest.fixture(scope="module", params=["native", "avx2"])
def libs(request, tmp_path_factory):
    """(portable, host) builds of the element-wise runner."""
    return cbuild.portable_and_host(tmp_path_factory, request.param, "eltwise", SOURCES, CDEF)


def _run(lib_ffi, params, seed, ops, shape, tiles):
    ffi, lib = lib_ffi
    y = np.full(int(np.prod(shape)) + 1, 777, np.int16)      # one past the box: untouched
    keep = []

    def ptr(a, t):
        keep.append(a)
        return ffi.cast(t, a.ctypes.data) if a is not None else ffi.NULL

    args = []
    for x, s in ops + [(None, None)] * (3 - len(ops)):
        args += [ptr(x, "int16_t *"), ptr(None if s is None else np.array(s, np.int32),
                                          "int32_t *")]
    t = np.array(tiles, np.int32)
    sat = lib.spl_run_eltwise(ptr(np.array(params, np.int64), "int64_t *"), seed, *args,
                              ptr(y, "int16_t *"), ptr(np.array(shape, np.int32), "int32_t *"),
                              len(shape), ptr(t, "int32_t *"), len(tiles) // 2, THREADS)
    return y, int(sat)


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(["add", "subtract", "multiply", "divide", "maximum", "less",
                           "where", "clip", "axpby"]),
       rows=st.integers(1, 70), cols=st.sampled_from([1, 2, 3, 6, 16, 31, 33, 64, 65]),
       la=st.sampled_from(list(LAYOUTS)), lb=st.sampled_from(list(LAYOUTS) + ["absent"]),
       lc=st.sampled_from(list(LAYOUTS)), shifts=st.tuples(*[st.integers(0, 3)] * 3),
       rq=st.integers(0, 18), mode=st.sampled_from([0, 1]), ntiles=st.integers(1, 4),
       seed=st.integers(0, 2**32 - 1))
def test_eltwise_host_rows_match_kernel(libs, op, rows, cols, la, lb, lc, shifts, rq, mode,
                                        ntiles, seed):
    rng = np.random.default_rng(seed)
    nops = {"where": 3, "clip": 1}.get(op, 2)
    lays = [la, lb, lc][:nops]
    if op in ("where", "clip", "axpby", "divide") and "absent" in lays:
        lays = [la, "rows", lc][:nops]
    ops = []
    for lay in lays:
        if lay == "absent":
            continue
        st_, shp = LAYOUTS[lay](rows, cols)
        ops.append((rng.integers(-32768, 32768, shp).astype(np.int16), st_))
    k0, k1 = sorted(rng.integers(-3000, 3000, 2).tolist())
    params = [OPS[op], *shifts, k0, k1, -40000, 40000, rq, mode]
    n = rows * cols
    cuts = sorted(set([0, n] + rng.integers(0, n + 1, ntiles - 1).tolist()))
    tiles = [v for a, b in zip(cuts, cuts[1:]) for v in (a, b)] or [0, 0]
    (y0, s0), (y1, s1) = (_run(lib, params, seed, ops, (rows, cols), tiles) for lib in libs)
    assert np.array_equal(y0, y1) and s0 == s1


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(["add", "subtract", "maximum", "minimum", "where", "multiply"]),
       n=st.integers(1, 300), la=st.sampled_from([1, 0]), lb=st.sampled_from([1, 0, None]),
       lc=st.sampled_from([1, 0]), shifts=st.tuples(*[st.integers(0, 16)] * 3),
       rq=st.integers(-2, 33), mode=st.sampled_from([0, 1]), ntiles=st.integers(1, 4),
       k0=st.sampled_from([0, -5, 1 << 20, -(1 << 31), (1 << 31) - 1]),
       seed=st.integers(0, 2**32 - 1))
def test_eltwise_host_flat_lanes_match_kernel(libs, op, n, la, lb, lc, shifts, rq, mode, ntiles,
                                              k0, seed):
    # 1-D calls (ReLU's maximum with the constant k0, its gradient's where, bias-free adds):
    # operands of stride 1 or 0, shifts and rounding shifts in and out of the lanes' range.
    rng = np.random.default_rng(seed)
    if op in ("add", "subtract", "multiply") and lb is None:
        lb = 1
    strides = [la, lb, lc][:3 if op == "where" else 2]
    if op == "where" and lb is None:
        strides[1] = 0
    ops = [(rng.integers(-32768, 32768, n if s else 1).astype(np.int16), (s,))
           for s in strides if s is not None]
    ops[0][0][rng.random(ops[0][0].shape) < 0.3] = 0                # where's false lanes
    params = [OPS[op], *shifts, k0, 0, 0, 0, rq, mode]
    cuts = sorted(set([0, n] + rng.integers(0, n + 1, ntiles - 1).tolist()))
    tiles = [v for a, b in zip(cuts, cuts[1:]) for v in (a, b)]
    (y0, s0), (y1, s1) = (_run(lib, params, seed, ops, (n,), tiles) for lib in libs)
    assert np.array_equal(y0, y1) and s0 == s1


def test_eltwise_host_bias_add_saturates_and_counts(libs):
    # The conv bias add at full scale into a narrower format: counted the same way.
    x = np.full((50, 6), 32000, np.int16)
    x[25:] = -32000
    bias = np.array([32000, -32000, 0, 1, 2, 3], np.int16)
    params = [OPS["add"], 0, 0, 0, 0, 0, 0, 0, 0, 0]
    out = [_run(lib, params, 0, [(x, (6, 1)), (bias, (0, 1))], (50, 6), [0, 300])
           for lib in libs]
    assert np.array_equal(out[0][0], out[1][0]) and out[0][1] == out[1][1] == 50


@pytest.mark.parametrize("mode", [0, 1])
def test_eltwise_host_big_calls_across_threads(libs, mode):
    # LeNet-5's conv1 bias add and ReLU at full size: several threads share the flat ranges.
    rng = np.random.default_rng(mode)
    x = rng.integers(-32768, 32768, (50176, 6)).astype(np.int16)
    bias = rng.integers(-32768, 32768, 6).astype(np.int16)
    tiles = [v for a in range(0, 50176 * 6, 4704) for v in (a, min(a + 4704, 50176 * 6))]
    params = [OPS["add"], 2, 0, 0, 0, 0, 0, 0, 2, mode]
    out = [_run(lib, params, 5, [(x, (6, 1)), (bias, (0, 1))], (50176, 6), tiles)
           for lib in libs]
    assert np.array_equal(out[0][0], out[1][0]) and out[0][1] == out[1][1]
    params = [OPS["maximum"], 0, 0, 0, 0, 0, 0, 0, 0, mode]
    out = [_run(lib, params, 5, [(x.ravel(), (1,))], (x.size,), tiles) for lib in libs]
    assert np.array_equal(out[0][0], out[1][0]) and out[0][1] == out[1][1]
