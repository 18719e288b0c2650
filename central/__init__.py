"""Cunban central node: the city's overview of its townships (imports edge's kernel)."""
