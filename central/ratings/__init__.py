"""好差评 at central: the city's published figures, and county follow-ups for officers."""
