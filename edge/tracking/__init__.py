"""Progress by tracking code: /track for residents, with or without JavaScript."""
