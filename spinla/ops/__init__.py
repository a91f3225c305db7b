"""Every public op; spinla/__init__.py re-exports these names."""
from ._core import asarray, default_rounding, rounding  # noqa: F401
from .creation import eye, full, full_like, ones, ones_like, zeros, zeros_like  # noqa: F401
from .linalg import matmul  # noqa: F401
from .manipulation import (astype, broadcast_to, concat, concatenate, expand_dims,  # noqa: F401
                           flip, getitem, matrix_transpose, pad, permute_dims, reshape,
                           squeeze, stack, transpose)

# Op families that register more names append their imports below.
