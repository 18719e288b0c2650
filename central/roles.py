"""The roles that sign in at central and the page each lands on after login."""

from __future__ import annotations

HOME = {
    "officer": "/officer/",
    "central_admin": "/nodes",
}
