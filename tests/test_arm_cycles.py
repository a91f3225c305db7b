"""The instruction-level ARM968 cycle model (spinla/armcycles.py): its timing rules on
hand-written instruction sequences, and its instruction count against qemu's -singlestep
trace.  The qemu part is skipped, with the reason, without arm-none-eabi-gcc or qemu-arm."""
from __future__ import annotations

import numpy as np
import pytest

from spinla import armcases as cases
from spinla import armcycles as ac
from spinla import armharness as hx

_missing = hx.toolchain_missing()
qemu = pytest.mark.skipif(_missing is not None, reason=f"cycle-model test skipped: {_missing}")


def log(*blocks):
    """A qemu in_asm + exec log: blocks of (addr, mnemonic, operands); each block listed
    (IN:) and executed once, in order."""
    lines = []
    for blk in blocks:
        lines.append("IN: f")
        for addr, mn, ops in blk:
            lines.append(f"0x{addr:08x}:  e0000000  {mn} {ops}")
        lines.append("")
        lines.append(f"Trace 0: 0x7f0000000000 [00000480/{blk[0][0]:08x}/00000000/00000200] f")
    return lines


def cycles(*blocks):
    return ac.cycles_from_log(log(*blocks), [])[0]


def test_single_cycle_instructions():
    assert cycles([(0, "add", "r0, r1, r2"), (4, "ldr", "r3, [r4]"), (8, "str", "r5, [r6]"),
                   (12, "smlabb", "r7, r8, r9, r7")]) == 4


def test_multiplies():
    assert cycles([(0, "mul", "r0, r1, r2")]) == 2
    assert cycles([(0, "mla", "r0, r1, r2, r3")]) == 2
    assert cycles([(0, "smull", "r0, r1, r2, r3")]) == 3
    assert cycles([(0, "umlal", "r0, r1, r2, r3")]) == 3
    assert cycles([(0, "smlalbb", "r0, r1, r2, r3")]) == 2


def test_register_shift_costs_one_more():
    assert cycles([(0, "add", "r0, r1, r2, lsl r3")]) == 2
    assert cycles([(0, "add", "r0, r1, r2, lsl #3")]) == 1
    assert cycles([(0, "lsl", "r0, r1, r2")]) == 2          # mov r0, r1, lsl r2
    assert cycles([(0, "lslsne", "r0, r1, r2")]) == 2
    assert cycles([(0, "lsl", "r0, r1, #2")]) == 1


def test_load_use_interlocks():
    word = [(0, "ldr", "r0, [r1]"), (4, "add", "r2, r0, #1")]
    assert cycles(word) == 3
    half = [(0, "ldrsh", "r0, [r1]"), (4, "add", "r2, r0, #1")]
    assert cycles(half) == 4
    half_after = [(0, "ldrh", "r0, [r1]"), (4, "mov", "r3, #0"), (8, "add", "r2, r0, #1")]
    assert cycles(half_after) == 4
    unrelated = [(0, "ldrh", "r0, [r1]"), (4, "add", "r2, r3, #1")]
    assert cycles(unrelated) == 2
    base = [(0, "ldr", "r0, [r1]"), (4, "ldr", "r2, [r0, #4]")]   # loaded value as address
    assert cycles(base) == 3


def test_multiply_result_interlock():
    assert cycles([(0, "smulbb", "r0, r1, r2"), (4, "add", "r3, r0, r0")]) == 3
    chain = [(0, "smlabb", "r0, r1, r2, r0"), (4, "smlabb", "r0, r3, r4, r0")]
    assert cycles(chain) == 3                      # accumulator used at once: +1
    assert cycles([(0, "smlabb", "r0, r1, r2, r0"), (4, "smlabb", "r5, r3, r4, r5")]) == 2


def test_load_store_multiple():
    assert cycles([(0, "push", "{r4, r5, r6, lr}")]) == 4
    assert cycles([(0, "ldm", "r0, {r1, r2, r3}"), (4, "add", "r4, r3, #1")]) == 5


def test_branches_taken_and_not():
    loop = [(0, "subs", "r0, r0, #1"), (4, "bne", "#0")]
    assert cycles(loop, loop) == 2 + 2 + 2         # taken once (refill 2); the last, unknown
    fall = [(0, "subs", "r0, r0, #1"), (4, "bne", "#0")]
    after = [(8, "mov", "r1, #0")]
    assert cycles(fall, after) == 3                # not taken: no refill
    ret = [(0, "pop", "{r4, pc}")]
    assert cycles(ret, [(100, "mov", "r0, #0")]) == 2 + 2 + 1


def test_interlock_across_blocks():
    assert cycles([(0, "ldrh", "r0, [r1]"), (4, "b", "#100")],
                  [(100, "add", "r2, r0, #1")]) == 2 + 2 + 1   # refill; the stall has passed


@qemu
def test_block_count_equals_singlestep_count():
    case = cases.gemm(np.random.default_rng(0), 6, 5, 19, True, 1, (1, 0, 2))
    counted = ac.count(*case)
    assert counted.instructions == ac.singlestep_count(*case)
    assert counted.cycles > counted.instructions   # multiplies, refills, interlocks


@qemu
def test_only_kernel_code_counts():
    """The harness's decoding and I/O are excluded: a bigger request of the same work (extra
    padding bytes in unused array slack) costs the kernel the same cycles."""
    rng = np.random.default_rng(1)
    k, sc, arrs = cases.requant(rng, 64, False, 0, shift=4)
    a = ac.count(k, sc, arrs)
    arrs2 = dict(arrs, dst=np.concatenate([arrs["dst"], np.zeros(4000, np.int16)]))
    b = ac.count(k, sc, arrs2)
    assert a.cycles == b.cycles and a.instructions == b.instructions


@qemu
def test_gemm_cost_grows_with_the_work():
    rng = np.random.default_rng(2)
    small = ac.count(*cases.gemm(rng, 8, 8, 32, False, 0, shift=10)).cycles
    big = ac.count(*cases.gemm(rng, 8, 8, 64, False, 0, shift=10)).cycles
    assert 1.5 * small < big < 2.2 * small
