"""Election publicity (换届公示): candidates and roles for a publicity period, then the archive."""
