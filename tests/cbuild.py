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
