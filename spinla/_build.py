"""cffi build of the kernel library (run by setuptools at install time, never at import time).

The kernels in spinla_c/ are compiled for the host together with the emulator's tile runners
in spinla_c/host/.  -march defaults to `native` because the package is built on the machine
that runs it; set SPINLA_MARCH (for example `x86-64-v3`) to build a portable wheel.  The
target decides the host SIMD path (spinla_c/spl_simd.h: AVX-512 VNNI, else AVX2, else NEON on
aarch64, else the portable C); spinla.kernels.simd_path() reports the one built.
"""
import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
C_DIR = HERE.parent / "spinla_c"

ffibuilder = FFI()
# Every family declares its host runners in its own spinla_c/host/*.h (declarations only);
# host/program.h is the whole-Program runner (host/run_program.c) that spinla/emulator.py uses.
ffibuilder.cdef("\n".join(p.read_text() for p in sorted((C_DIR / "host").glob("*.h"))))


def _sources():
    rel = lambda p: os.path.relpath(p, HERE.parent)  # setuptools wants paths from setup.py
    kernels = sorted(C_DIR.glob("*.c"))
    runners = sorted((C_DIR / "host").glob("*.c"))
    return [rel(p) for p in kernels + runners]


_march = os.environ.get("SPINLA_MARCH", "native")
ffibuilder.set_source(
    "spinla._kernels",
    "\n".join(['#include "spinla.h"'] + [f'#include "host/{p.name}"'
                                        for p in sorted((C_DIR / "host").glob("*.h"))]),
    sources=_sources(),
    include_dirs=[os.path.relpath(C_DIR, HERE.parent)],
    # headers and the per-ISA include files, so that editing one rebuilds the kernels
    depends=[os.path.relpath(p, HERE.parent) for p in sorted(C_DIR.glob("*.h"))
             + sorted((C_DIR / "host").glob("*.h")) + sorted((C_DIR / "host").glob("*.inc"))],
    extra_compile_args=["-std=c99", "-O3", f"-march={_march}", "-fopenmp",
                        "-Wall", "-Wno-unused-function"],
    extra_link_args=["-fopenmp"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
