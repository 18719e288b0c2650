"""The replication monitor: how each township node's replica, feed and blobs are doing."""
