"""Cunban edge node: the township's web app, its database and the kernel central reuses."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cunban")  # the release installed in this venv (pyproject.toml)
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
