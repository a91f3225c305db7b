from setuptools import setup

setup(cffi_modules=["spinla/_build.py:ffibuilder"])
