"""spinla/abi.py reads spinla_c/spinla.h: its constants, enums and struct layouts must be what
the C compilers see.  The header is the one definition; these tests check the reader."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from spinla import abi

C_DIR = abi.HEADER.rsplit("/", 1)[0]


def _structs():
    return sorted(abi.header().structs.values(), key=lambda s: s.name)


def _c_names():
    """Every constant as C sees it (an int64 print of the macro or enumerator)."""
    return sorted(abi.header().consts)


def test_reader_finds_what_python_uses():
    assert abi.const("SPL_MAX_DIMS") >= 1
    assert abi.enum("SPL_EW_")["add"] == 0
    assert abi.enum("SPL_SM_") == {"softmax": 0, "logsumexp": 1}
    assert abi.struct("spl_conv2d_t").names[:4] == ("n", "h", "w", "cin")
    with pytest.raises(abi.AbiError, match="no SPL_NOT_THERE"):
        abi.const("SPL_NOT_THERE")


def test_pack_round_trip_and_padding():
    s = abi.struct("spl_eltwise_t")
    data = s.pack({"op": 3, "v0": -5, "rq.seed": 7})
    assert len(data) == s.size
    back = s.unpack(data)
    assert (back["op"], back["v0"], back["rq.seed"], back["k1"]) == (3, -5, 7, 0)
    with pytest.raises(abi.AbiError, match="no fields"):
        s.pack({"nope": 1})


def test_layout_matches_host_gcc(tmp_path):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "spinla.h"',
             "int main(void) {"]
    for s in _structs():
        lines.append(f'printf("{s.name} %zu %zu\\n", sizeof({s.name}), _Alignof({s.name}));')
        for f in s.fields:
            lines.append(f'printf("{s.name}.{f.name} %zu\\n", offsetof({s.name}, {f.name}));')
    for n in _c_names():
        lines.append(f'printf("{n} %lld\\n", (long long)({n}));')
    lines.append("return 0; }")
    src = tmp_path / "abi.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "abi"
    subprocess.run([gcc, "-std=c11", f"-I{C_DIR}", str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    seen = dict(line.split(" ", 1) for line in out.splitlines())
    want = {}
    for s in _structs():
        want[s.name] = f"{s.size} {s.align}"
        for f in s.fields:
            want[f"{s.name}.{f.name}"] = str(f.offset)
    for n in _c_names():
        want[n] = str(abi.const(n))
    assert seen == want


def test_layout_matches_arm_eabi(tmp_path):
    """The layout Python writes is the ARM968's: _Static_asserts from abi.py compiled with
    arm-none-eabi-gcc for the core the kernels run on."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    lines = ['#include <stddef.h>', '#include "spinla.h"']
    for s in _structs():
        lines.append(f"_Static_assert(sizeof({s.name}) == {s.size}, \"{s.name} size\");")
        lines.append(f"_Static_assert(_Alignof({s.name}) == {s.align}, \"{s.name} align\");")
        for f in s.fields:
            lines.append(f"_Static_assert(offsetof({s.name}, {f.name}) == {f.offset}, "
                         f"\"{s.name}.{f.name}\");")
    for n in _c_names():
        lines.append(f"_Static_assert(({n}) == ({abi.const(n)}LL), \"{n}\");")
    src = tmp_path / "abi_arm.c"
    src.write_text("\n".join(lines) + "\n")
    r = subprocess.run([gcc, "-std=c11", "-mcpu=arm968e-s", "-ffreestanding", f"-I{C_DIR}",
                        "-c", str(src), "-o", str(tmp_path / "abi_arm.o")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_function_macro_matches_c(tmp_path):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    cases = [(1, 1, 1), (27, 6, 64), (150, 16, 5), (800, 50, 256)]
    src = tmp_path / "m.c"
    src.write_text('#include <stdio.h>\n#include "spinla.h"\nint main(void) {\n' + "".join(
        f'printf("%lld\\n", (long long)SPL_CONV2D_GW_SCRATCH({a}, {b}, {c}));\n'
        for a, b, c in cases) + "return 0; }\n")
    subprocess.run([gcc, f"-I{C_DIR}", str(src), "-o", str(tmp_path / "m")], check=True)
    out = subprocess.run([str(tmp_path / "m")], check=True, capture_output=True,
                         text=True).stdout.split()
    f = abi.macro("SPL_CONV2D_GW_SCRATCH")
    assert [int(v) for v in out] == [f(*c) for c in cases]


def test_parser_rejects_what_it_cannot_read(tmp_path):
    h = tmp_path / "bad.h"
    h.write_text("typedef struct { float x; } bad_t;\n")
    with pytest.raises(abi.AbiError, match="unknown member type 'float'"):
        abi.header(str(h))
