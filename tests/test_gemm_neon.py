"""The host's ARM64 NEON gemm path (spinla_c/host/gemm_neon.inc) against the portable C, bit
for bit, both built for aarch64 and run under qemu-aarch64.

`make aarch64-harness` builds every kernel with spinla_c/arm/dispatch.c and start.c's aarch64
_start twice, freestanding (aarch64-linux-gnu-gcc -O2): the NEON build and -DSPL_PORTABLE.
Each request (the ARM968 harness's wire format, spinla_c/arm/harness.h) goes to both; outputs,
untouched padding and saturation counts must be identical for every data magnitude (one
int32 segment, many short ones), shape, tail (k % 8), shift and rounding mode.  Skipped, with
the reason, without aarch64-linux-gnu-gcc or qemu-aarch64 (.ci/run installs both).
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinla import armharness as hx
from test_gemm_simd import KINDS, MODES, _data

ROOT = hx.ROOT
ELF = {p: ROOT / "arm-build" / f"spinla-harness-a64-{p}.elf" for p in ("neon", "portable")}


def _missing():
    for tool, pkg in (("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
                      ("qemu-aarch64", "qemu-user")):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install {pkg})"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None,
                                reason=f"NEON qemu tests skipped: {_missing()}")


class Aarch64Harness(hx.QemuHarness):
    """The harness protocol of QemuHarness, served by an aarch64 build under qemu-aarch64."""

    def __init__(self, elf):
        self.elf = elf
        self.proc = subprocess.Popen(["qemu-aarch64", str(elf)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)


def start_pair():
    """(portable, neon) harnesses under qemu-aarch64, after `make aarch64-harness`."""
    r = subprocess.run(["make", "-s", "aarch64-harness"], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 0, f"make aarch64-harness failed:\n{r.stdout}\n{r.stderr}"
    dis = subprocess.run(["aarch64-linux-gnu-objdump", "-d", str(ELF["neon"])],
                         capture_output=True, text=True)
    if dis.returncode == 0:   # the NEON build really holds the smlal2 path
        assert "smlal2" in dis.stdout
    return Aarch64Harness(ELF["portable"]), Aarch64Harness(ELF["neon"])


@pytest.fixture(scope="module")
def pair():
    portable, neon = start_pair()
    yield portable, neon
    neon.close()
    portable.close()


def _case(rng, m, n, k, pad, ka, kb, shift, mode, seed):
    lda, ldb, ldc = k + pad[0], k + pad[1], n + pad[2]
    sc = dict(lda=lda, ldb=ldb, ldc=ldc, m=m, n=n, k=k, shift=shift, mode=mode, seed=seed,
              row0=int(rng.integers(0, 1000)), col0=int(rng.integers(0, 1000)),
              ncols_total=n + int(rng.integers(0, 1000)))
    arrays = dict(a=_data(rng, (m, lda), ka), bt=_data(rng, (n, ldb), kb),
                  c=rng.integers(-32768, 32768, (m, ldc)).astype(np.int16))
    return sc, arrays


def _same(pair, sc, arrays):
    (r_p, out_p), (r_n, out_n) = (h.call("GEMM", sc, arrays) for h in pair)
    assert r_p == r_n, f"saturation portable {r_p} != neon {r_n} ({sc})"
    np.testing.assert_array_equal(out_n["c"], out_p["c"], err_msg=str(sc))
    return r_p, out_p["c"]


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 11), n=st.integers(1, 11),
       k=st.one_of(st.integers(1, 200), st.sampled_from([784, 1023, 1024])),
       pad=st.tuples(st.integers(0, 9), st.integers(0, 9), st.integers(0, 5)),
       ka=st.sampled_from(KINDS), kb=st.sampled_from(KINDS), shift=st.integers(-2, 40),
       mode=st.sampled_from(list(MODES)), seed=st.integers(0, 2**32 - 1))
def test_neon_matches_portable(pair, m, n, k, pad, ka, kb, shift, mode, seed):
    rng = np.random.default_rng(seed)
    _same(pair, *_case(rng, m, n, k, pad, ka, kb, shift, MODES[mode], seed))


@pytest.mark.parametrize("ka,kb,k", [
    ("tiny", "tiny", 8192),      # one int32 segment over all of k, the largest k taken
    ("q3.12", "q3.12", 1031),    # several segments and a scalar tail of 7
    ("extreme", "extreme", 64),  # segments of one step (products of 2^30)
    ("full", "full", 2048),
    ("q3.12", "tiny", 8193),     # past the largest k: portable path in both builds
])
def test_neon_hard_cases(pair, ka, kb, k):
    rng = np.random.default_rng(k)
    for shift, mode in [(0, 0), (12, 0), (30, 1), (45, 1)]:
        _same(pair, *_case(rng, 5, 7, k, (0, 3, 2), ka, kb, shift, mode, 11))


def test_neon_all_minus_32768_is_exact(pair):
    # Every product is 2^30: one per int32 lane and step, the int64 sum k * 2^30 must survive.
    k, m, n = 200, 3, 5
    sc = dict(lda=k, ldb=k, ldc=n, m=m, n=n, k=k, shift=30, mode=0, seed=0, row0=0, col0=0,
              ncols_total=n)
    arrays = dict(a=np.full((m, k), -32768, np.int16), bt=np.full((n, k), -32768, np.int16),
                  c=np.zeros((m, n), np.int16))
    sat, c = _same(pair, sc, arrays)
    assert sat == 0 and np.all(c == k)
