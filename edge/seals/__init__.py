"""Electronic seals: office keys, signed decisions and village certificates, public checking."""
