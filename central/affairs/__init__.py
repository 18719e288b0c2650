"""The city portal's village affairs: every township's published disclosures, per village."""
