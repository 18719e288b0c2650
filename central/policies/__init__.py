"""The city portal's benefit policies: city-wide ones written here (sent down the feed)
and every township's own."""
