"""Cunban edge node: the township's web app, its database and the kernel central reuses."""

__version__ = "0.1.0"
