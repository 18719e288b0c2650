"""The access log in the journal: one line per request with its method, route template
(`/track/{code}`, never the path a visitor typed, which carries tracking codes), status and
time; no address, no query. uvicorn's own access log is off (`python -m edge|central serve`)."""

from __future__ import annotations

import copy
import logging
from typing import Any

LOGGER = "cunban.access"
access = logging.getLogger(LOGGER)
_writing = False  # only a served process writes it (serving_config); apps in tests do not


def record(method: str, route: str, status: int, seconds: float) -> None:
    """Log one answered request."""
    if _writing:
        access.info("%s %s %d %.0fms", method, route, status, seconds * 1000)


def serving_config(level: str) -> dict[str, Any]:
    """Turn the access log on for this process; uvicorn's logging configuration with our
    access logger beside its own, at `level`."""
    from uvicorn.config import LOGGING_CONFIG

    global _writing
    _writing = True
    config = copy.deepcopy(LOGGING_CONFIG)
    ours = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    config["loggers"][LOGGER] = ours
    return config
