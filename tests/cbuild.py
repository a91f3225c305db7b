"""Build kernel sources into a throw-away shared library for tests that compare the portable C
(what the ARM968 runs) with the host's SIMD paths."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import cffi
import pytest

C_DIR = Path(__file__).resolve().parent.parent / "spinla_c"


def cpu_has_vnni() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\bavx512_vnni\b", flags)) and bool(re.search(r"\bavx512bw\b", flags))


def cpu_has_avx2() -> bool:
    """Whether this CPU runs x86-64-v3 code (AVX2, FMA, BMI2, MOVBE)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return all(re.search(rf"\b{f}\b", flags) for f in ("avx2", "fma", "bmi2", "movbe"))


def portable_and_host(tmp_path_factory, host: str, name: str, sources, cdef: str):
    """(portable, host) builds of `sources` for a bit-for-bit comparison: the portable C (what
    the ARM968 runs) and the host's SIMD paths, built 'native' (-march=native), 'vnni'
    (-march=native, skipped on a CPU without AVX-512 VNNI) or 'avx2' (x86-64-v3; skipped on a
    CPU without it), with OpenMP."""
    d = tmp_path_factory.mktemp(f"{name}_{host}")
    if host == "vnni" and not cpu_has_vnni():
        pytest.skip("this CPU has no AVX-512 VNNI: the AVX-512 host path is not built here")
    if host == "avx2":
        if not cpu_has_avx2():
            pytest.skip("this CPU has no AVX2 (x86-64-v3)")
        fast = build(d, "avx2", ["-march=x86-64-v3", "-fopenmp"], sources, cdef)
    else:
        fast = build(d, "native", ["-march=native", "-fopenmp"], sources, cdef)
    return build(d, "portable", ["-DSPL_PORTABLE"], sources, cdef), fast


def ptr(ffi, a, ctype: str):
    """A C pointer of `ctype` to NumPy array a's data."""
    return ffi.cast(ctype, a.ctypes.data)


def build(tmpdir: Path, name: str, flags, sources, cdef: str):
    """(ffi, lib) of `sources` (names in spinla_c/) compiled with `flags`; skips without gcc."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: cannot build the kernels for comparison")
    out = tmpdir / f"lib{name}.so"
    cmd = [gcc, "-std=c99", "-O2", "-fPIC", "-shared", *flags, f"-I{C_DIR}",
           *(str(C_DIR / s) for s in sources), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    return ffi, ffi.dlopen(str(out))
