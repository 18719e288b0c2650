"""The city portal's election publicity: every township's candidate lists running today."""
