"""The roles that sign in at central and the page each lands on after login."""

from __future__ import annotations

# The route each role lands on, by name: resolved at request time (edge.kernel.urls.home_path).
HOME = {
    "officer": "officer:queue",
    "central_admin": "monitor:nodes",
    "supervisor": "supervision:dashboard",
}
