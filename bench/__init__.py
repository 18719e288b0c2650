"""Benchmarks: scripts that run the real programs and print measured figures (not tests)."""
