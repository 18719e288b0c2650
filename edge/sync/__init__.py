"""Sync with central: heartbeat, node identity, and the command feed pulled and applied."""
