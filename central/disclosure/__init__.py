"""The city portal's disclosure: the power list (shipped with the code) and every township's
disclosed results, from the ingested copies of their applications."""
