"""The other township nodes: their public addresses, as central sends them down the feed."""
