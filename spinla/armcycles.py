"""Instruction-level ARM968 cycle model: run one kernel call of the ARM build under qemu and
turn the instructions it executed into ARM968E-S cycles.

How instructions are obtained.  `qemu-arm -cpu arm946 -d in_asm,exec,nochain` logs every
translated block's instructions once (`IN:`) and every execution of a block (`Trace`); with
block chaining off, each executed block is logged, and a block always runs to its end (ARM
blocks end at any write of the PC, including every branch and `svc`).  The executed
instruction stream is therefore exact; `singlestep_count` cross-checks the total against
`-singlestep` (one instruction per block).  A branch at the end of a block was taken when the
next block does not start at the following address.

Which instructions count.  Only the kernel's own code: every executed instruction outside the
harness's functions (symbols `hx_*` and `_start` in spinla_c/arm/, from `arm-none-eabi-nm`).
The kernel, its static helpers and libgcc's helpers it calls (e.g. `__aeabi_ldivmod`) count;
the harness's request decoding, argument marshalling, the `bl` into the kernel and the I/O do
not.

Timing rules (ARM9E-S Technical Reference Manual, ARM DDI 0165B, chapter "Instruction cycle
times"; the multiply figures agree with GCC's arm926ejs pipeline description, the same ARM9E
core family; summarised in ../shared/spinnaker-facts.md):

- data processing, LDR/STR of any size, SMULxy/SMLAxy/SMULWy/SMLAWy, CLZ, Q-arithmetic: 1 cycle;
  a data-processing instruction whose second operand is shifted by a register: +1 (DDI 0165B);
- MUL/MLA: 2; SMULL/UMULL/SMLAL/UMLAL: 3; SMLALxy: 2;
- LDM/STM/PUSH/POP: 1 cycle per register (at least 1); LDRD/STRD: 2;
- a taken branch, or any instruction that writes the PC (BX, POP {..pc}, LDR pc, MOV pc): +2
  refill cycles (a taken B/BL costs 3), during which pending load and multiply results
  arrive (no interlock across a taken branch); a not-taken conditional branch 1;
- interlocks: a word load's destination used by the next instruction +1; a halfword or byte
  load's destination used by the next +2, by the one after +1; the last register an LDM loads,
  used by the next, +1; a multiply's destination (either half of a long multiply) used by the
  next instruction, as an operand or as accumulator, +1;
- memory: TCM, zero wait states (the kernels' operands sit in DTCM, the code in ITCM).

Assumptions (named, not measured): a conditional non-branch instruction is counted as executed
(the trace does not say whether its condition passed): this can only over-count, by the extra
cycles of a skipped multiply or load interlock.  The trace comes from QEMU's ARM946 model; the
ARM968E-S executes the same ARMv5TE instructions.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import armharness as hx

# --- cycle rules (see module docstring for sources) -----------------------------------------
CYCLES_ALU = 1
CYCLES_REG_SHIFT_EXTRA = 1
CYCLES_MUL32 = 2          # MUL, MLA
CYCLES_MUL_LONG = 3       # SMULL, UMULL, SMLAL, UMLAL
CYCLES_MUL16 = 1          # SMULxy, SMLAxy, SMULWy, SMLAWy
CYCLES_SMLALXY = 2
CYCLES_BRANCH_REFILL = 2  # taken branch: 1 + 2 = 3
INTERLOCK_WORD_LOAD = 1
INTERLOCK_SUBWORD_LOAD = (2, 1)   # used by next, by the one after
INTERLOCK_MULTIPLY = 1

_COND = r"(?:eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?"
_REG = r"\b(r1[0-5]|r[0-9]|sb|sl|fp|ip|sp|lr|pc)\b"
_ALIAS = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12", "sp": "r13", "lr": "r14",
          "pc": "r15"}
_BRANCH = re.compile(rf"(blx|bx|bl|b){_COND}")
_MUL16 = re.compile(rf"(smla|smul)(bb|bt|tb|tt)|(smlaw|smulw)(b|t){_COND}")
_SMLALXY = re.compile(rf"smlal(bb|bt|tb|tt){_COND}")
_MUL_LONG = re.compile(rf"(smull|umull|smlal|umlal)s?{_COND}")
_MUL32 = re.compile(rf"(mul|mla)s?{_COND}")
_LOAD = re.compile(rf"ldr(sh|h|sb|b|d)?{_COND}")
_STORE = re.compile(rf"str(h|b|d)?{_COND}")
_MULTI = re.compile(rf"(ldm|stm)(ia|ib|da|db|fd|ed|fa|ea)?{_COND}|(push|pop){_COND}")
_NO_DEST = re.compile(rf"(cmp|cmn|tst|teq){_COND}")
_SHIFT = re.compile(rf"(lsl|lsr|asr|ror)s?{_COND}")


def _regs(text: str) -> list[str]:
    return [_ALIAS.get(r, r) for r in re.findall(_REG, text)]


def _reglist(ops: str) -> list[str]:
    """Registers of an LDM/STM/PUSH/POP list, ranges expanded."""
    m = re.search(r"\{([^}]*)\}", ops)
    out = []
    for part in (m.group(1).split(",") if m else []):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(_ALIAS.get(p.strip(), p.strip())[1:]) for p in part.split("-"))
            out += [f"r{i}" for i in range(lo, hi + 1)]
        elif part:
            out.append(_ALIAS.get(part, part))
    return out


@dataclass(frozen=True)
class Insn:
    """One decoded instruction: its fixed cost and what the interlock rules need."""
    addr: int
    mnemonic: str
    klass: str
    cycles: int                   # issue cycles, without branch refill and interlocks
    srcs: frozenset               # registers read
    load_dests: tuple = ()        # (reg, penalty next, penalty after next) for loads
    mul_dests: tuple = ()         # registers a multiply writes
    branch: bool = False          # writes the PC (B, BL, BX, POP {..pc}, LDR pc, MOV pc): ends
                                  # its block; taken when the next block is not at addr + 4


@lru_cache(maxsize=65536)
def decode(addr: int, mnemonic: str, ops: str) -> Insn:
    mn = mnemonic.split(".")[0]
    regs = _regs(ops)
    if _BRANCH.fullmatch(mn):
        return Insn(addr, mn, "branch", CYCLES_ALU, frozenset(regs), branch=True)
    if _MULTI.fullmatch(mn):
        lst = _reglist(ops)
        base = [] if mn.startswith(("push", "pop")) else regs[:1]
        is_load = mn.startswith(("ldm", "pop"))
        srcs = frozenset(base + ([] if is_load else lst) + (["r13"] if not base else []))
        loads = ((lst[-1], INTERLOCK_WORD_LOAD, 0),) if is_load and lst else ()
        return Insn(addr, mn, "ldm" if is_load else "stm", max(1, len(lst)), srcs, loads,
                    branch=is_load and "r15" in lst)
    m = _LOAD.fullmatch(mn)
    if m:
        size = m.group(1) or ""
        dest = regs[:2] if size == "d" else regs[:1]
        addr_regs = regs[len(dest):]
        if size in ("sh", "h", "sb", "b"):
            loads = ((dest[0],) + INTERLOCK_SUBWORD_LOAD,)
        else:
            loads = ((dest[-1], INTERLOCK_WORD_LOAD, 0),)
        return Insn(addr, mn, "load", 2 if size == "d" else 1, frozenset(addr_regs), loads,
                    branch="r15" in dest)
    m = _STORE.fullmatch(mn)
    if m:
        return Insn(addr, mn, "store", 2 if m.group(1) == "d" else 1, frozenset(regs))
    if _SMLALXY.fullmatch(mn):
        return Insn(addr, mn, "smlalxy", CYCLES_SMLALXY, frozenset(regs), mul_dests=tuple(regs[:2]))
    if _MUL16.fullmatch(mn):
        return Insn(addr, mn, "mul16", CYCLES_MUL16, frozenset(regs[1:]), mul_dests=tuple(regs[:1]))
    m = _MUL_LONG.fullmatch(mn)
    if m:
        acc = m.group(1) in ("smlal", "umlal")
        return Insn(addr, mn, "mul_long", CYCLES_MUL_LONG,
                    frozenset(regs if acc else regs[2:]), mul_dests=tuple(regs[:2]))
    if _MUL32.fullmatch(mn):
        return Insn(addr, mn, "mul32", CYCLES_MUL32, frozenset(regs[1:]), mul_dests=tuple(regs[:1]))
    # Data processing and everything else (CLZ, QADD, MRS, SVC, ...).
    # A register-specified shift: an operand "rm, lsl rs", or the shift mnemonics' own form
    # "lsl rd, rm, rs" (MOV with a shifted register).
    reg_shift = bool(re.search(r"\b(lsl|lsr|asr|ror)\s+" + _REG, ops)) or bool(
        _SHIFT.fullmatch(mn) and len(regs) == 3)
    srcs = regs if _NO_DEST.fullmatch(mn) else regs[1:]
    cyc = CYCLES_ALU + (CYCLES_REG_SHIFT_EXTRA if reg_shift else 0)
    return Insn(addr, mn, "alu", cyc, frozenset(srcs), branch=bool(regs) and regs[0] == "r15"
                and not _NO_DEST.fullmatch(mn))


@dataclass
class Block:
    """A translated block: its instructions and the cycles it costs on its own."""
    insns: list
    counted: list        # per instruction: inside the kernel's code
    static_cycles: int   # issue cycles + interlocks within the block, counted part only
    n_counted: int
    classes: Counter


def _static(insns: list, counted: list) -> tuple[int, Counter]:
    cyc, cls = 0, Counter()
    for i, ins in enumerate(insns):
        if not counted[i]:
            continue
        cyc += ins.cycles + _interlock(insns[max(0, i - 2):i], ins)
        cls[ins.klass] += 1
    return cyc, cls


def _interlock(prev: list, ins: Insn) -> int:
    """Stall cycles of `ins` given up to two instructions before it (oldest first)."""
    stall = 0
    if prev:
        p = prev[-1]
        for reg, nxt, _ in p.load_dests:
            if reg in ins.srcs:
                stall = max(stall, nxt)
        if any(r in ins.srcs for r in p.mul_dests):
            stall = max(stall, INTERLOCK_MULTIPLY)
    if len(prev) == 2 and stall == 0:
        for reg, _, after in prev[0].load_dests:
            if after and reg in ins.srcs:
                stall = max(stall, after)
    return stall


@dataclass
class Counts:
    """What one kernel call executed, in the kernel's own code."""
    cycles: int
    instructions: int
    classes: Counter = field(default_factory=Counter)
    ret: int = 0
    arrays: dict = field(default_factory=dict)


@lru_cache(maxsize=4)
def harness_ranges(elf: str) -> list[tuple[int, int]]:
    """[start, end) of the harness's own functions (hx_*, _start) in the ELF."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", "--defined-only", elf], capture_output=True,
                         text=True, check=True).stdout
    ranges = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT" and (parts[3].startswith("hx_")
                                                      or parts[3] == "_start"):
            a, s = int(parts[0], 16), int(parts[1], 16)
            ranges.append((a, a + s))
    if not ranges:
        raise hx.HarnessError(f"{elf}: no hx_* symbols: not the spinla harness?")
    return sorted(ranges)


def _in_ranges(addr: int, ranges) -> bool:
    return any(a <= addr < b for a, b in ranges)


_IN_RE = re.compile(r"^0x([0-9a-f]+):\s+[0-9a-f]+\s+(\S+)\s*(.*)$")
_TRACE_RE = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")


def cycles_from_log(lines, ranges) -> tuple[int, int, Counter]:
    """(cycles, instructions, class counts) of the counted code in a qemu in_asm+exec log."""
    blocks: dict[int, Block] = {}
    pending: list = []
    collecting = False
    total = ninsn = 0
    classes = Counter()
    prev_tail: list = []          # last two executed instructions (for cross-block interlocks)
    prev_block: Block | None = None
    for line in lines:
        if line.startswith("IN:"):
            collecting, pending = True, []
            continue
        if collecting:
            m = _IN_RE.match(line)
            if m:
                pending.append(decode(int(m.group(1), 16), m.group(2), m.group(3)))
                continue
            if pending:
                counted = [not _in_ranges(i.addr, ranges) for i in pending]
                sc, cls = _static(pending, counted)
                blocks[pending[0].addr] = Block(pending, counted, sc, sum(counted), cls)
            collecting = False
        m = _TRACE_RE.match(line)
        if not m:
            continue
        pc = int(m.group(1), 16)
        blk = blocks.get(pc)
        if blk is None:
            raise hx.HarnessError(f"qemu log: block at {pc:#x} executed before its IN: listing")
        # The previous block's final branch: taken when we did not fall through.  The refill
        # cycles of a taken branch also let any pending load or multiply result arrive.
        if prev_block is not None:
            last = prev_block.insns[-1]
            if last.branch and pc != last.addr + 4:
                if prev_block.counted[-1]:
                    total += CYCLES_BRANCH_REFILL
                prev_tail = []
        # Interlocks across the block boundary (first two instructions of this block).
        for i in range(min(2, len(blk.insns))):
            if blk.counted[i]:
                window = (prev_tail + blk.insns[:i])[-2:]
                inner = blk.insns[max(0, i - 2):i]
                total += _interlock(window, blk.insns[i]) - _interlock(inner, blk.insns[i])
        total += blk.static_cycles
        ninsn += blk.n_counted
        classes.update(blk.classes)
        prev_tail = (prev_tail + blk.insns)[-2:]
        prev_block = blk
    return total, ninsn, classes


def count(kernel: str, scalars: dict, arrays: dict, elf: Path | None = None) -> Counts:
    """Run one call of `kernel` (harness.h names) under qemu and count its cycles."""
    elf = Path(elf or hx.build_arm())
    req = hx.encode(kernel, scalars, arrays)
    with tempfile.TemporaryDirectory(prefix="spinla-cyc-") as d:
        log = Path(d) / "qemu.log"
        r = subprocess.run(["qemu-arm", "-cpu", hx.QEMU_CPU, "-d", "in_asm,exec,nochain", "-D",
                            str(log), str(elf)], input=req, capture_output=True)
        if r.returncode != 0:
            raise hx.HarnessError(f"qemu-arm exited {r.returncode}: {r.stderr.decode()[-500:]}")
        with open(log) as f:
            cyc, n, cls = cycles_from_log(f, harness_ranges(str(elf)))
    ret, out = _response(kernel, arrays, r.stdout)
    return Counts(cyc, n, cls, ret, out)


def _response(kernel, arrays, data: bytes):
    import struct
    magic, status, ret, alen, _ = struct.unpack_from("<IIQII", data)
    if status != 0:
        raise hx._status_error(kernel, status)
    return ret, hx.decode_arrays(kernel, arrays, data[24:24 + alen])


def singlestep_count(kernel: str, scalars: dict, arrays: dict, elf: Path | None = None) -> int:
    """Counted instructions by `-singlestep` (one instruction per traced block): the
    cross-check of the block-level count `count` makes."""
    elf = Path(elf or hx.build_arm())
    ranges = harness_ranges(str(elf))
    req = hx.encode(kernel, scalars, arrays)
    with tempfile.TemporaryDirectory(prefix="spinla-cyc-") as d:
        log = Path(d) / "qemu.log"
        subprocess.run(["qemu-arm", "-cpu", hx.QEMU_CPU, "-singlestep", "-d", "exec,nochain",
                        "-D", str(log), str(elf)], input=req, capture_output=True, check=True)
        n = 0
        with open(log) as f:
            for line in f:
                m = _TRACE_RE.match(line)
                if m and not _in_ranges(int(m.group(1), 16), ranges):
                    n += 1
    return n
