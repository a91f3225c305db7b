"""The op numbers the Python kernel modules pass to C are the enums of spinla_c/spinla.h (cffi
does not read that header, so the two are kept in step by hand and checked here)."""
import re
from pathlib import Path

from spinla.kernels import eltwise, lut, reduce

HEADER = (Path(__file__).resolve().parent.parent / "spinla_c" / "spinla.h").read_text()


def enum(prefix):
    """{suffix: value} of a C enum whose members start with `prefix` (implicit values)."""
    body = re.search(r"enum\s*\{([^}]*\b" + prefix + r"[^}]*)\}", HEADER).group(1)
    out, nxt = {}, 0
    for name, val in re.findall(r"\b" + prefix + r"(\w+)\s*(?:=\s*(\d+))?", body):
        nxt = int(val) if val else nxt
        out[name] = nxt
        nxt += 1
    return out


def test_eltwise_codes():
    c = {"ADD": "add", "SUB": "subtract", "MUL": "multiply", "DIV": "divide", "MAX": "maximum",
         "MIN": "minimum", "LT": "less", "LE": "less_equal", "GT": "greater",
         "GE": "greater_equal", "EQ": "equal", "NE": "not_equal", "WHERE": "where",
         "NEG": "negative", "ABS": "abs", "SQUARE": "square", "CLIP": "clip", "AXPBY": "axpby"}
    assert {c[k]: v for k, v in enum("SPL_EW_").items()} == eltwise.OPS


def test_function_and_reduction_codes():
    assert {k.lower(): v for k, v in enum("SPL_FN_").items()} == lut.FUNCTIONS
    assert {k.lower(): v for k, v in enum("SPL_RED_").items()} == reduce.OPS

