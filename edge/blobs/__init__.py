"""Blobs: photos and signatures made safe and small, kept as content-addressed files."""
