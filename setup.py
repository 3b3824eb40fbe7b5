"""The wheel ships the generated code: before `build_py` copies the packages, it runs the one
generator (`tools/protogen.py`, what `make generate` runs), which writes the stubs and the
descriptor set into `services/pivotal/` (ignored by git). Everything else is in pyproject.toml.
"""

import sys
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class GenerateThenBuild(build_py):
    def run(self) -> None:
        # An editable install maps to the source tree, where `make generate` writes.
        if not getattr(self, "editable_mode", False):
            sys.path.insert(0, str(ROOT))
            from tools import protogen

            protogen.main()
            # The generated packages did not exist when setuptools listed the packages.
            generated = find_packages(str(ROOT / "services"), include=["pivotal", "pivotal.*"])
            self.packages = sorted({*self.packages, *generated})
            self.distribution.packages = self.packages
        super().run()


setup(cmdclass={"build_py": GenerateThenBuild})
