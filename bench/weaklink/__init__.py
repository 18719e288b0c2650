"""Weak-link bench: the edge node and headless Chromium in two network namespaces joined by a
shaped veth pair (DESIGN.md §6c). Run `.venv/bin/python -m bench.weaklink --help`.
"""
