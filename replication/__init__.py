"""The replica store for the demo and the tests: SeaweedFS on loopback, one identity per node."""
