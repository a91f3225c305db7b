"""The C ABI of spinla_c/spinla.h, read from the header itself.

spinla.h is the one definition of every constant, op code and struct layout that the kernels
and the board program share with Python.  This module parses the subset of C the header uses
(#define of integer expressions, enums, typedef'd structs of fixed-width integers, nested
structs and arrays) and lays the structs out by the ARM EABI rules (each member aligned to
its own size, the struct to its largest member, size rounded up to that alignment), which
x86-64 and AArch64 hosts share for these types (tests/test_abi.py compiles a check with the
host gcc and with arm-none-eabi-gcc).  Nothing here is retyped from the header: change the
header and Python follows.

    abi.const("SPL_MAX_DIMS")        -> 6
    abi.enum("SPL_EW_")              -> {"ADD": 0, "SUB": 1, ...} (prefix stripped)
    abi.struct("spl_dma_t")          -> Struct with .size, .align, .fields, .offset(name)
    abi.struct("spl_dma_t").pack(d)  -> bytes (little-endian, as the ARM968 runs)
"""
from __future__ import annotations

import functools
import os
import re
import struct as _struct
from dataclasses import dataclass

_HERE = os.path.dirname(os.path.abspath(__file__))
# The source tree's header; an installed wheel carries a copy in the package (setup.py).
HEADER = next((p for p in (os.path.join(os.path.dirname(_HERE), "spinla_c", "spinla.h"),
                           os.path.join(_HERE, "spinla.h")) if os.path.exists(p)),
              os.path.join(os.path.dirname(_HERE), "spinla_c", "spinla.h"))

# Fixed-width types: (size, alignment, struct-module code).  ARM EABI aligns each to its size.
_SCALARS = {
    "int8_t": (1, "b"), "uint8_t": (1, "B"), "int16_t": (2, "h"), "uint16_t": (2, "H"),
    "int32_t": (4, "i"), "uint32_t": (4, "I"), "int64_t": (8, "q"), "uint64_t": (8, "Q"),
}


class AbiError(ValueError):
    """spinla.h holds something this reader does not understand, or a name it lacks."""


@dataclass(frozen=True)
class Field:
    name: str
    ctype: str          # scalar type name or struct typedef name
    offset: int
    size: int           # bytes of the whole member (count elements)
    count: int          # array length (1 for a plain member)


@dataclass(frozen=True)
class Struct:
    name: str
    size: int
    align: int
    fields: tuple

    def offset(self, name: str) -> int:
        return self.field(name).offset

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise AbiError(f"{self.name} has no field {name!r}")

    @property
    def names(self) -> tuple:
        return tuple(f.name for f in self.fields)

    def flat(self):
        """(name, code, offset) of every scalar in declaration order; nested struct members
        are named 'outer.inner', array elements 'name[i]'."""
        out = []
        for f in self.fields:
            for i in range(f.count):
                nm = f.name if f.count == 1 else f"{f.name}[{i}]"
                base = f.offset + i * (f.size // f.count)
                if f.ctype in _SCALARS:
                    out.append((nm, _SCALARS[f.ctype][1], base))
                else:
                    out += [(f"{nm}.{n}", c, base + o) for n, c, o in struct(f.ctype).flat()]
        return out

    @functools.cached_property
    def _packer(self):
        """A struct.Struct format with explicit padding, and the scalar names in order."""
        fmt, pos, names = "<", 0, []
        for nm, code, off in self.flat():
            if off > pos:
                fmt += f"{off - pos}x"
            fmt += code
            pos = off + _struct.calcsize("<" + code)
            names.append(nm)
        if self.size > pos:
            fmt += f"{self.size - pos}x"
        return _struct.Struct(fmt), tuple(names)

    def pack(self, values: dict) -> bytes:
        """The struct's bytes from {scalar name: int} (missing names are 0)."""
        st, names = self._packer
        unknown = set(values) - set(names)
        if unknown:
            raise AbiError(f"{self.name}: no fields {sorted(unknown)}")
        return st.pack(*(int(values.get(n, 0)) for n in names))

    def unpack(self, data, offset: int = 0) -> dict:
        st, names = self._packer
        return dict(zip(names, st.unpack_from(data, offset)))

    @functools.lru_cache(maxsize=None)
    def numpy_dtype(self):
        """A NumPy structured dtype of the same layout (scalar members only)."""
        import numpy as np
        names, formats, offsets = [], [], []
        for nm, code, off in self.flat():
            names.append(nm)
            formats.append("<" + {"b": "i1", "B": "u1", "h": "i2", "H": "u2", "i": "i4",
                                  "I": "u4", "q": "i8", "Q": "u8"}[code])
            offsets.append(off)
        return np.dtype(dict(names=names, formats=formats, offsets=offsets,
                             itemsize=self.size))


def _strip_comments(src: str) -> str:
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    return re.sub(r"//[^\n]*", " ", src)


_INT = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b")


def _eval(expr: str, names: dict, where: str) -> int:
    """An integer constant expression of the header (literals, earlier names, + - * / % << >>
    | & ~ and parentheses); C's division truncates toward zero."""
    e = _INT.sub(lambda m: str(int(m.group(1), 0)), expr)
    e = re.sub(r"[A-Za-z_]\w*", lambda m: str(names[m.group(0)]) if m.group(0) in names
               else m.group(0), e)
    if not re.fullmatch(r"[\d\s()+\-*/%<>|&~^]*", e) or not e.strip():
        raise AbiError(f"spinla.h: cannot evaluate {where} = {expr!r}")
    e = e.replace("/", "//")
    return int(eval(e, {"__builtins__": {}}, {}))  # noqa: S307 - digits and operators only


@dataclass(frozen=True)
class Header:
    consts: dict     # every #define and enumerator: name -> int
    enums: tuple     # each enum's (name, value) pairs in order
    structs: dict    # typedef name -> Struct
    macros: dict     # function-like #define name -> (parameters, body)


@functools.lru_cache(maxsize=4)
def _parse(path: str, mtime: float) -> Header:
    with open(path) as f:
        src = _strip_comments(f.read())
    consts, enums, structs, macros = {}, [], {}, {}
    src = src.replace("\\\n", " ")
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\(([^)]*)\)([^\n]+)$", src,
                         flags=re.M):
        macros[m.group(1)] = (tuple(a.strip() for a in m.group(2).split(",")),
                              m.group(3).strip())
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+([^\n]+)$", src,
                         flags=re.M):
        name, val = m.group(1), m.group(2).strip()
        if name == "SPINLA_H":
            continue
        consts[name] = _eval(val, consts, name)
    for m in re.finditer(r"\benum\s*\w*\s*\{([^}]*)\}", src):
        items, nxt = [], 0
        for part in m.group(1).split(","):
            part = part.strip()
            if not part:
                continue
            name, _, val = part.partition("=")
            name = name.strip()
            nxt = _eval(val, consts, name) if val.strip() else nxt
            consts[name] = nxt
            items.append((name, nxt))
            nxt += 1
        enums.append(tuple(items))
    for m in re.finditer(r"\btypedef\s+struct\s*\w*\s*\{([^}]*)\}\s*(\w+)\s*;", src):
        structs[m.group(2)] = _layout(m.group(2), m.group(1), consts, structs)
    return Header(consts, tuple(enums), structs, macros)


def _layout(name: str, body: str, consts: dict, structs: dict) -> Struct:
    fields, pos, align = [], 0, 1
    for decl in body.split(";"):
        decl = " ".join(decl.split())
        if not decl:
            continue
        m = re.fullmatch(r"(?:const )?(\w+) (.+)", decl)
        if not m:
            raise AbiError(f"spinla.h: {name}: cannot read member {decl!r}")
        ctype, names = m.groups()
        if ctype in _SCALARS:
            size = align_ = _SCALARS[ctype][0]
        elif ctype in structs:
            size, align_ = structs[ctype].size, structs[ctype].align
        else:
            raise AbiError(f"spinla.h: {name}: unknown member type {ctype!r}")
        for nm in names.split(","):
            am = re.fullmatch(r"\s*(\w+)\s*(?:\[([^\]]+)\])?\s*", nm)
            if not am:
                raise AbiError(f"spinla.h: {name}: cannot read member {nm!r}")
            count = _eval(am.group(2), consts, f"{name}.{am.group(1)}") if am.group(2) else 1
            pos = -(-pos // align_) * align_
            fields.append(Field(am.group(1), ctype, pos, size * count, count))
            pos += size * count
            align = max(align, align_)
    return Struct(name, -(-pos // align) * align, align, tuple(fields))


def header(path: str = HEADER) -> Header:
    """The parsed header, cached until the file changes."""
    return _parse(path, os.path.getmtime(path))


def const(name: str) -> int:
    try:
        return header().consts[name]
    except KeyError:
        raise AbiError(f"spinla.h defines no {name}") from None


def enum(prefix: str) -> dict:
    """The enum whose enumerators all start with `prefix`: {name without prefix, lower case:
    value}, in declaration order."""
    for items in header().enums:
        if items and all(n.startswith(prefix) for n, _ in items):
            return {n[len(prefix):].lower(): v for n, v in items}
    raise AbiError(f"spinla.h has no enum of {prefix}* names")


@functools.lru_cache(maxsize=None)
def _macro(name: str, params: tuple, body: str):
    probe = dict(header().consts, **{a: 1 for a in params})
    _eval(body, probe, name)            # only integer operators and known names
    e = _INT.sub(lambda m: str(int(m.group(1), 0)), body).replace("/", "//")
    return eval(f"lambda {', '.join(params)}: {e}",  # noqa: S307 - checked by _eval above
                {"__builtins__": {}}, dict(header().consts))


def macro(name: str):
    """A function-like #define (integer arithmetic only) as a Python function; it works on
    NumPy integer arrays too.  Division is floor division: use it on non-negative values."""
    try:
        params, body = header().macros[name]
    except KeyError:
        raise AbiError(f"spinla.h defines no macro {name}()") from None
    return _macro(name, params, body)


def struct(name: str) -> Struct:
    try:
        return header().structs[name]
    except KeyError:
        raise AbiError(f"spinla.h defines no struct {name}") from None
