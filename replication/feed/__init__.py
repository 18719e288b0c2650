"""The command feed between central and the edges: typed commands and the edge's signed pull."""
