"""我的集市: real-name sellers' supply and demand listings, contact, reports, expiry."""
