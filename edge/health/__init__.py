"""/healthz: is this node alive and on which schema and catalog."""
