"""Central's audit: its own log (edge.audit's chain) and each node's chain anchored here."""
