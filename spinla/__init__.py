"""spinla: NumPy-like fixed-point linear algebra for SpiNNaker.

Arrays are 16-bit fixed point (spinla.fixed); every op is lowered into a Program of kernel
calls placed on SpiNNaker cores (spinla.program), run by the host emulator (spinla.emulator)
and priced by the cost model (spinla.cost).
"""
from . import fixed, machine  # noqa: F401
from .array import Array  # noqa: F401
from .fixed import BOOL, INT16, NEAREST, STOCHASTIC, Format, q  # noqa: F401
from .machine import Machine, set_machine  # noqa: F401
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all
from .program import Program  # noqa: F401
from .runtime import SaturationWarning, jit, reset_stats, seed, stats  # noqa: F401
from .runtime import (FixedPointError, FixedPointWarning, InvalidValueWarning,  # noqa: F401
                      UnderflowWarning, errstate, geterr, seterr)
from .profile import cost_of, profile  # noqa: F401  (cost_of comes from spinla.cost)

# The Array API standard's inspection surface (spinla/_info.py): version, dtype names,
# finfo/iinfo, result_type, can_cast, isdtype, constants, __array_namespace_info__.
from ._info import *  # noqa: F401,F403,E402
from ._info import __all__ as _info_all  # noqa: E402
from ._info import __array_api_version__, __array_namespace_info__  # noqa: F401,E402

__version__ = "0.1.0"
__all__ = list(_ops_all) + [
    "Array", "Format", "q", "BOOL", "INT16", "NEAREST", "STOCHASTIC", "Machine", "set_machine",
    "Program", "SaturationWarning", "jit", "reset_stats", "seed", "stats", "fixed", "machine",
    "profile", "cost_of", "errstate", "seterr", "geterr", "FixedPointError",
    "FixedPointWarning", "UnderflowWarning", "InvalidValueWarning"] + list(_info_all)
