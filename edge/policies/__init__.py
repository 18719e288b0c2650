"""Benefit policies (惠民政策): city-wide ones from central's feed, township ones written here."""
