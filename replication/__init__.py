"""The transport between nodes: the replica store, Litestream on both sides, blob upload, node
identity, the feed's typed commands and the ingest table registry. It knows no pages."""
