import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    """Ships spinla_c/spinla.h inside the package: spinla/abi.py reads the C ABI (constants,
    op codes, struct layouts) from it at run time."""

    def run(self):
        super().run()
        dst = os.path.join(self.build_lib, "spinla")
        os.makedirs(dst, exist_ok=True)
        shutil.copy(os.path.join("spinla_c", "spinla.h"), os.path.join(dst, "spinla.h"))


setup(cffi_modules=["spinla/_build.py:ffibuilder"], cmdclass={"build_py": BuildPy})
