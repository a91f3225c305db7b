"""Run one spinla kernel call on the ARM968 build under qemu, or on the host build, through the
same request decoder (spinla_c/arm/dispatch.c).

The request layout, the kernel ids and every kernel's argument list are read from
spinla_c/arm/harness.h (its one definition); nothing is retyped here.  Two back ends:

- `QemuHarness`: the freestanding `arm-build/spinla-harness.elf` (`make arm-harness`,
  `arm-none-eabi-gcc -mcpu=arm968e-s -marm -Os`, hot functions O2) under `qemu-arm -cpu arm946`, QEMU's nearest
  ARMv5TE model; one process answers many requests.
- `HostHarness`: the same dispatch.c and kernels compiled for this machine with the flags of
  the emulator's extension (spinla/_build.py: -O3 -march=native), so the SIMD paths the
  emulator runs are the ones compared.

`call(kernel, scalars, arrays)` returns (kernel return value, arrays after the call).
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
C_DIR = ROOT / "spinla_c"
HEADER = C_DIR / "arm" / "harness.h"
ARM_ELF = ROOT / "arm-build" / "spinla-harness.elf"
QEMU_CPU = "arm946"   # QEMU has no ARM968 model; the ARM946E-S is its nearest ARMv5TE core

_DTYPES = {"q15_t": np.int16, "q31_t": np.int32, "q63_t": np.int64, "int32_t": np.int32,
           "uint32_t": np.uint32, "uint64_t": np.uint64}


@dataclass(frozen=True)
class KernelSig:
    name: str
    ident: int
    scalars: tuple[str, ...]
    arrays: tuple[tuple[str, type], ...]


@dataclass(frozen=True)
class Layout:
    consts: dict
    kernels: dict  # name -> KernelSig


@lru_cache(maxsize=1)
def layout() -> Layout:
    """Parse harness.h: its enum constants and X-macro argument lists."""
    text = re.sub(r"\\\n", " ", HEADER.read_text())   # join continued macro lines
    consts = {}
    for body in re.findall(r"enum\s*\{([^}]*)\}", text):
        for name, val in re.findall(r"(HX_\w+)\s*=\s*([^,]+)", body):
            consts[name] = int(eval(val.strip(), {}))  # integer literals and shifts only
    macros = dict(re.findall(r"#define (HX_\w+)\(X\)\s*(.*)", text))

    def expand(body: str) -> list[str]:
        out = []
        for tok in re.findall(r"(HX_\w+)\(X\)|X\(([^)]*)\)", body):
            if tok[0]:
                out += expand(macros[tok[0]])
            else:
                out.append(tok[1])
        return out

    names = expand(macros["HX_KERNELS"])
    kernels = {}
    for i, k in enumerate(names):
        sc = tuple(a.strip() for a in expand(macros[f"HX_{k}_S"]))
        arrs = []
        for a in expand(macros[f"HX_{k}_A"]):
            nm, ty = (s.strip() for s in a.split(","))
            arrs.append((nm, _DTYPES[ty]))
        kernels[k] = KernelSig(k, i, sc, tuple(arrs))
    return Layout(consts, kernels)


class HarnessError(RuntimeError):
    pass


def encode(kernel: str, scalars: dict, arrays: dict) -> bytes:
    """A request for `kernel`: scalars and arrays by the names harness.h gives them."""
    lay = layout()
    sig = lay.kernels.get(kernel)
    if sig is None:
        raise HarnessError(f"harness: unknown kernel {kernel!r} (harness.h lists "
                           f"{sorted(lay.kernels)})")
    missing = set(sig.scalars) - set(scalars) | {a for a, _ in sig.arrays} - set(arrays)
    extra = set(scalars) - set(sig.scalars) | set(arrays) - {a for a, _ in sig.arrays}
    if missing or extra:
        raise HarnessError(f"harness {kernel}: missing {sorted(missing)}, unknown {sorted(extra)}")
    c = lay.consts
    parts = [struct.pack(f"<{len(sig.scalars)}q", *(int(scalars[s]) for s in sig.scalars))]
    for name, dt in sig.arrays:
        a = arrays[name]
        a = np.zeros(0, dt) if a is None else np.ascontiguousarray(a).reshape(-1)
        if a.dtype != dt:
            raise HarnessError(f"harness {kernel}: array {name} is {a.dtype}, needs {np.dtype(dt)}")
        raw = a.tobytes()
        parts.append(struct.pack("<II", a.itemsize, a.size) + raw + b"\0" * (-len(raw) % 8))
    body = b"".join(parts)
    total = c["HX_REQ_HEADER_BYTES"] + len(body)
    if total > c["HX_MAX_REQUEST_BYTES"]:
        raise HarnessError(f"harness {kernel}: request of {total} bytes exceeds "
                           f"HX_MAX_REQUEST_BYTES")
    head = struct.pack("<IIIIII", c["HX_MAGIC"], sig.ident, len(sig.scalars), len(sig.arrays),
                       total, 0)
    return head + body


def decode_arrays(kernel: str, arrays: dict, blob: bytes) -> dict:
    """The arrays region of a response, shaped like the request's arrays."""
    sig = layout().kernels[kernel]
    out, off = {}, 0
    for name, dt in sig.arrays:
        size, count = struct.unpack_from("<II", blob, off)
        off += 8
        a = np.frombuffer(blob, dt, count, off).copy()
        off += (size * count + 7) & ~7
        src = arrays[name]
        out[name] = a.reshape(np.shape(src)) if src is not None else a
    return out


def _status_error(kernel: str, status: int) -> HarnessError:
    names = {v: k for k, v in layout().consts.items() if k.startswith("HX_ERR_")}
    return HarnessError(f"harness {kernel}: status {names.get(status, status)}")


def toolchain_missing() -> str | None:
    """Why the qemu harness cannot run here, or None."""
    for tool in ("arm-none-eabi-gcc", "qemu-arm"):
        if shutil.which(tool) is None:
            pkg = "gcc-arm-none-eabi" if tool.startswith("arm") else "qemu-user"
            return f"{tool} not installed (apt-get install {pkg})"
    return None


def build_arm(quiet: bool = True) -> Path:
    """`make arm-harness` (incremental), returning the ELF."""
    why = toolchain_missing()
    if why:
        raise HarnessError(why)
    r = subprocess.run(["make", "-s", "arm-harness"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise HarnessError(f"make arm-harness failed:\n{r.stdout}\n{r.stderr}")
    return ARM_ELF


class QemuHarness:
    """One qemu-arm process serving requests until closed."""

    def __init__(self, elf: Path | None = None, extra_args=()):
        self.elf = elf or build_arm()
        self.proc = subprocess.Popen(["qemu-arm", "-cpu", QEMU_CPU, *extra_args, str(self.elf)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def call(self, kernel: str, scalars: dict, arrays: dict):
        req = encode(kernel, scalars, arrays)
        try:
            self.proc.stdin.write(req)
            self.proc.stdin.flush()
            head = self.proc.stdout.read(layout().consts["HX_RESP_HEADER_BYTES"])
        except BrokenPipeError:
            head = b""
        if len(head) < 24:
            raise HarnessError(f"harness {kernel}: qemu-arm exited "
                               f"(code {self.proc.poll()}) without a response")
        magic, status, ret, alen, _ = struct.unpack("<IIQII", head)
        blob = self.proc.stdout.read(alen)
        if status != 0:
            raise _status_error(kernel, status)
        return ret, decode_arrays(kernel, arrays, blob)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _host_flags() -> list[str]:
    # The emulator extension's optimisation flags (spinla/_build.py), without OpenMP: the
    # kernels themselves are single-threaded; only the host runners use threads.
    march = os.environ.get("SPINLA_MARCH", "native")
    return ["-std=c99", "-O3", f"-march={march}"]


class HostHarness:
    """dispatch.c and the kernels built for this machine, called in-process through cffi."""

    def __init__(self, build_dir: Path | None = None):
        import cffi
        gcc = shutil.which("gcc")
        if gcc is None:
            raise HarnessError("gcc not installed: cannot build the host harness")
        self._tmp = None
        if build_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="spinla-hx-")
            build_dir = Path(self._tmp.name)
        out = Path(build_dir) / "libspinla_hx.so"
        srcs = sorted(C_DIR.glob("*.c")) + [C_DIR / "arm" / "dispatch.c"]
        cmd = [gcc, *_host_flags(), "-fPIC", "-shared", f"-I{C_DIR}", f"-I{C_DIR / 'arm'}",
               *map(str, srcs), "-o", str(out)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise HarnessError(f"host harness build failed: {' '.join(cmd)}\n{r.stderr}")
        self.ffi = cffi.FFI()
        self.ffi.cdef("int32_t hx_serve(uint8_t *buf, uint32_t len, uint64_t *ret, "
                      "uint32_t *arrays_off, uint32_t *arrays_len);")
        self.lib = self.ffi.dlopen(str(out))

    def call(self, kernel: str, scalars: dict, arrays: dict):
        req = encode(kernel, scalars, arrays)
        buf = np.frombuffer(bytearray(req), np.uint64)  # 8-byte aligned, writable
        ret = self.ffi.new("uint64_t *")
        off = self.ffi.new("uint32_t *")
        alen = self.ffi.new("uint32_t *")
        status = self.lib.hx_serve(self.ffi.cast("uint8_t *", buf.ctypes.data), len(req), ret,
                                   off, alen)
        if status != 0:
            raise _status_error(kernel, status)
        blob = buf.tobytes()[off[0]:off[0] + alen[0]]
        return int(ret[0]), decode_arrays(kernel, arrays, blob)

    def close(self):
        if self._tmp is not None:
            self._tmp.cleanup()
