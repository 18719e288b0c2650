"""Production install of a Cunban node on Debian: `deploy/install edge|central|store|upgrade`."""
