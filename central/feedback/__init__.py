"""我有话说 at central: county departments answer the items routed to them (down the feed), and
the Open311 GeoReport v2 API over every township's public items."""
