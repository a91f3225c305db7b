"""Datasets used by the examples and benchmarks, loaded without any ML framework."""

from . import mnist

__all__ = ["mnist"]
